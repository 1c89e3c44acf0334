"""HSDS paging: the page a use case is asked for (from the query parameters `page` and `per_page`),
what it found, and the page the routes answer with."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class PageRequest:
    number: int  # 1-based
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def window(self, items: Sequence[T]) -> "Paged[T]":
        """This page of a list found whole."""
        return Paged(list(items[self.offset : self.offset + self.size]), len(items), self)


PageNumber = Annotated[int, Query(ge=1, le=100_000, description="1-based")]
PerPage = Annotated[int, Query(ge=1, le=500)]


async def page_request(page: PageNumber = 1, per_page: PerPage = 50) -> PageRequest:
    return PageRequest(page, per_page)


Paging = Annotated[PageRequest, Depends(page_request)]


@dataclass(frozen=True)
class Paged(Generic[T]):
    items: list[T]
    total: int  # across every page
    request: PageRequest

    def map(self, convert: Callable[[T], U]) -> "Paged[U]":
        return Paged([convert(item) for item in self.items], self.total, self.request)


class Page(BaseModel, Generic[T]):
    """HSDS API paging: the page's entities in `contents`, with counts."""

    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    contents: list[T]

    @classmethod
    def of(cls, found: Paged[T]) -> "Page[T]":
        pages = max(1, math.ceil(found.total / found.request.size))
        page = found.request.number
        return cls(
            total_items=found.total,
            total_pages=pages,
            page_number=page,
            size=len(found.items),
            first_page=page == 1,
            last_page=page >= pages,
            empty=not found.items,
            contents=found.items,
        )
