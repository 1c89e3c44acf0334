"""Paging's HTTP edge, for operators: the pages (open first), acknowledging one, and the on-call
rota — list, add a weekly or a cover shift, remove one. Times are UTC here; screens show Japan's."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from eventkit.clock import system_clock
from eventkit.deps import Operator, Pool, app_state
from eventkit.routing import api_router
from eventkit.text import Line
from notify.paging import rota, service
from notify.paging.domain import Message, Page

router = api_router(tags=["paging"])
PagerConfig = Annotated[service.Pager, Depends(app_state("pager"))]


class PageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    dedup_key: str
    kind: str
    kinds: tuple[str, ...]
    referral_id: uuid.UUID | None
    case_id: uuid.UUID | None
    severity: str | None
    source: str
    detail: tuple[str, ...]
    occurrences: int
    raised_at: datetime
    state: str
    rounds: int
    next_page_at: datetime | None
    last_paged_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    round: int
    action: str
    channel: str
    recipient_name: str | None
    status: str
    tries: int
    last_error: str | None
    http_status: int | None
    sent_at: datetime | None


class PageDetailOut(PageOut):
    messages: list[MessageOut]


def _out(page: Page) -> PageOut:
    return PageOut.model_validate(page)


@router.get("/pages", summary="Pages, those still paging first")
async def list_pages(
    principal: Operator,
    pool: Pool,
    open_only: Annotated[bool, Query(alias="open")] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PageOut]:
    return [_out(page) for page in await service.list_pages(pool, open_only=open_only, limit=limit)]


@router.get("/pages/{page_id}", summary="A page and what it sent")
async def get_page(page_id: uuid.UUID, principal: Operator, pool: Pool) -> PageDetailOut:
    page, sent = await service.page_with_messages(pool, page_id=page_id)
    messages: list[Message] = sent
    return PageDetailOut.model_validate(
        _out(page).model_dump() | {"messages": [MessageOut.model_validate(m) for m in messages]}
    )


@router.post(
    "/pages/{page_id}/acknowledge",
    summary="Acknowledge a page: paging stops and the pager hears `acknowledge`",
)
async def acknowledge_page(
    page_id: uuid.UUID, principal: Operator, pool: Pool, pager: PagerConfig
) -> PageOut:
    page = await service.acknowledge_page(
        pool, page_id=page_id, by=principal.subject, now=system_clock(), pager=pager
    )
    return _out(page)


# ---- the rota ---------------------------------------------------------------------------------


class ShiftIn(BaseModel):
    """A weekly shift (`weekdays`, `starts`, `ends` in Japan time, HH:MM) or a cover shift
    (`starts_at`, `ends_at`), which replaces the weekly pattern while it lasts."""

    kind: Literal["weekly", "cover"]
    name: Line = Field(max_length=200)
    email: Line = Field(max_length=300)
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(default_factory=list, max_length=7)
    starts: Line = Field(default="", max_length=5)
    ends: Line = Field(default="", max_length=5)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class ShiftOut(BaseModel):
    id: uuid.UUID
    kind: Literal["weekly", "cover"]
    name: str
    email: str
    weekdays: list[int] | None
    starts: str | None
    ends: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    on_call_now: bool
    created_by: str


class RotaOut(BaseModel):
    shifts: list[ShiftOut]
    on_call: list[uuid.UUID] = Field(description="The shifts on call now (cover shifts replace weekly).")


def _shift_out(shift: rota.Shift, on_call: tuple[rota.Shift, ...]) -> ShiftOut:
    weekly = shift.when if isinstance(shift.when, rota.Weekly) else None
    cover = shift.when if isinstance(shift.when, rota.Cover) else None
    return ShiftOut(
        id=shift.id,
        kind="cover" if cover else "weekly",
        name=shift.name,
        email=shift.email,
        weekdays=sorted(weekly.weekdays) if weekly else None,
        starts=rota.clock_text(weekly.starts_min) if weekly else None,
        ends=rota.clock_text(weekly.ends_min) if weekly else None,
        starts_at=cover.starts_at if cover else None,
        ends_at=cover.ends_at if cover else None,
        on_call_now=shift in on_call,
        created_by=shift.created_by,
    )


@router.get("/oncall", summary="The on-call rota and who is on call now")
async def get_rota(principal: Operator, pool: Pool) -> RotaOut:
    shifts, on_call = await service.rota_now(pool, now=system_clock())
    return RotaOut(shifts=[_shift_out(s, on_call) for s in shifts], on_call=[s.id for s in on_call])


@router.post("/oncall/shifts", status_code=201, summary="Add an on-call shift")
async def add_shift(body: ShiftIn, principal: Operator, pool: Pool) -> ShiftOut:
    now = system_clock()
    when: rota.Weekly | rota.Cover
    if body.kind == "weekly":
        name, email, when = rota.weekly_shift(
            name=body.name, email=body.email, weekdays=body.weekdays, starts=body.starts, ends=body.ends
        )
    else:
        name, email, when = rota.cover_shift(
            name=body.name,
            email=body.email,
            starts_at=body.starts_at or now,
            ends_at=body.ends_at or now,
            now=now,
        )
    shift = await service.add_shift(pool, name=name, email=email, when=when, by=principal.subject, now=now)
    return _shift_out(shift, rota.on_call([shift], now))


@router.delete("/oncall/shifts/{shift_id}", status_code=204, summary="Remove an on-call shift")
async def remove_shift(shift_id: uuid.UUID, principal: Operator, pool: Pool) -> Response:
    await service.remove_shift(pool, shift_id=shift_id)
    return Response(status_code=204)
