"""The operator's paging screen: the pages still open (acknowledge one to stop the re-paging) and
the on-call rota (who is paged when, in Japan time). notify holds both; this only asks it."""

import logging
import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response

from contracts.hours import JST
from web.api import notify
from web.api.notify import Page, Rota
from web.backends import BackendError, NotYetAvailable
from web.deps import Checked, OperatorPage

log = logging.getLogger(__name__)

router = APIRouter(prefix="/ops/paging")
WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)


def _problem(error: BackendError) -> RedirectResponse:
    if error.status not in (404, 409, 422):
        raise error
    fields = ",".join(
        str(d.get("field", "")) for d in error.details if isinstance(d, dict) and d.get("field")
    )
    return RedirectResponse(f"/ops/paging?problem={quote(fields or error.code)}", status_code=303)


@router.get("")
async def paging(
    ctx: OperatorPage,
    done: Annotated[str, Query(max_length=40)] = "",
    problem: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    try:
        # Every open page (notify's maximum): one just acknowledged sorts after the triggered ones
        # and must stay in view.
        pages: list[Page] | None = await ctx.read(notify.PAGES, params={"open": "true", "limit": 500})
        rota: Rota | None = await ctx.read(notify.ROTA)
    except NotYetAvailable:
        pages, rota = None, None
    return await ctx.render(
        "ops/paging.html", pages=pages, rota=rota, weekdays=WEEKDAYS, done=done, problem=problem
    )


@router.post("/{page_id}/acknowledge")
async def acknowledge(ctx: OperatorPage, _: Checked, page_id: uuid.UUID) -> Response:
    try:
        await ctx.call("notify", "POST", f"/v1/pages/{page_id}/acknowledge", json={})
    except BackendError as error:
        return _problem(error)
    log.info("page %s acknowledged from the dashboard", page_id)
    return RedirectResponse("/ops/paging?done=acknowledged", status_code=303)


def _japan(value: str) -> str | None:
    """A `datetime-local` value, read as Japan time, as an ISO instant; None if it is not one."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=JST).isoformat()
    except ValueError:
        return None


@router.post("/shifts")
async def add_shift(
    ctx: OperatorPage,
    _: Checked,
    kind: Annotated[str, Form(pattern="^(weekly|cover)$")],
    name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=300)] = "",
    weekdays: Annotated[list[int] | None, Form()] = None,
    starts: Annotated[str, Form(max_length=5)] = "",
    ends: Annotated[str, Form(max_length=5)] = "",
    starts_at: Annotated[str, Form(max_length=20)] = "",
    ends_at: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    body: dict[str, object] = {"kind": kind, "name": name, "email": email}
    if kind == "weekly":
        body |= {"weekdays": [d for d in weekdays or [] if d in WEEKDAYS], "starts": starts, "ends": ends}
    else:
        body |= {"starts_at": _japan(starts_at), "ends_at": _japan(ends_at)}
    try:
        await ctx.call("notify", "POST", "/v1/oncall/shifts", json=body)
    except BackendError as error:
        return _problem(error)
    return RedirectResponse("/ops/paging?done=shift_added", status_code=303)


@router.post("/shifts/{shift_id}/delete")
async def remove_shift(ctx: OperatorPage, _: Checked, shift_id: uuid.UUID) -> Response:
    try:
        await ctx.call("notify", "DELETE", f"/v1/oncall/shifts/{shift_id}")
    except BackendError as error:
        return _problem(error)
    return RedirectResponse("/ops/paging?done=shift_removed", status_code=303)
