"""The change log (HSDS metadata): who changed which field of which record, when, from what to what.

Pure. A record's fields are compared as text, one instant as one text whatever its offset, so that
saving the same thing again logs nothing.
"""

import dataclasses
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from contracts.hours import WeeklyRule
from directory.register.domain import Location, Organisation, Service, schedule_to_json


@dataclass(frozen=True)
class Change:
    resource_id: uuid.UUID
    resource_type: str
    action: str
    field_name: str
    previous_value: str
    replacement_value: str
    updated_by: str
    at: datetime | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, WeeklyRule):
        return schedule_to_json(value)
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        # One instant, one text: 09:00+09:00 and 00:00Z must not read as a change.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _text(value: Any) -> str:
    plain = _plain(value)
    return "" if plain is None else plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)


def diff(
    before: Any,
    after: Any,
    *,
    resource_id: uuid.UUID,
    resource_type: str,
    action: str,
    by: str,
    skip: Sequence[str] = (),
) -> list[Change]:
    """One HSDS metadata row per changed field (every field when created)."""
    changes = []
    for f in dataclasses.fields(after):
        if f.name in ("id", *skip):
            continue
        old = _text(getattr(before, f.name)) if before is not None else ""
        new = _text(getattr(after, f.name))
        if before is None or old != new:
            changes.append(Change(resource_id, resource_type, action, f.name, old, new, by))
    return changes


def entry_changes(
    before: Organisation | Service | Location | None,
    after: Organisation | Service | Location,
    *,
    resource_type: str,
    by: str,
    action: str = "update",
    skip: Sequence[str] = (),
) -> list[Change]:
    """A register entry saved over `before`: every field, as `create`, when it is new; else each
    field that differs, as `action`."""
    return diff(
        before,
        after,
        resource_id=after.id,
        resource_type=resource_type,
        action="create" if before is None else action,
        by=by,
        skip=skip,
    )
