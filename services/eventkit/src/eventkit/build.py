"""Dataclasses built from what already bears their fields' names: a database row (repositories), or
a wider object (a use case's narrower view of it), so that no field is written out once more.

What needs converting (an enum, a tuple, a sealed value, a column under another name) is given.
"""

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")


def from_row(cls: type[D], row: asyncpg.Record, /, **given: Any) -> D:
    """`cls` with each field from the column of its name, unless `given`; a field with neither is
    an error (KeyError), never a silent default."""
    read = {f.name: row[f.name] for f in fields(cls) if f.init and f.name not in given}
    return cls(**read, **given)


def from_attributes(cls: type[D], source: object, /, **given: Any) -> D:
    """`cls` with each field from the attribute of its name on `source`, unless `given`: a view that
    keeps only some of an object's fields."""
    read = {f.name: getattr(source, f.name) for f in fields(cls) if f.init and f.name not in given}
    return cls(**read, **given)
