"""The operators' directory screen: search the whole register (server-side, paged), create and edit
an organisation, confirm an entry with it, export and import an HSDS file.

Whatever cannot be undone in one click (deactivating an organisation, importing a file over the
register) goes through a confirmation page the server renders: the first request only shows what
would happen, the second — a POST from that page — does it.
"""

import base64
import binascii
import json
import uuid
import zlib
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from contracts.vocabulary import Gender, Topic
from web.api.directory import (
    ORGANISATION,
    ORGANISATION_RECORD,
    ORGANISATION_SEARCH,
    REGISTER_ORGANISATION,
    OrganisationPage,
)
from web.backends import BackendError, Unreachable
from web.deps import Checked, Ctx, OperatorPage
from web.directory_form import (
    CAPABILITIES,
    CHANNELS,
    DAYS,
    ORG_TYPES,
    RESIDENCIES,
    blank_values,
    body_from_form,
    values_from_record,
)

router = APIRouter(prefix="/ops/directory")

PER_PAGE = 50
# The import's file rides, compressed, in a hidden field of the confirmation page.
MAX_IMPORT_BYTES = 32 * 1024 * 1024
MAX_PACKED_CHARS = 16 * 1024 * 1024
WHOLE_REGISTER_TIMEOUT_S = 120.0


def _problems(error: BackendError) -> list[str]:
    """What the register said was wrong, field by field (reasons only: never the values)."""
    found = [
        f"{d.get('field', '')}: {d.get('reason', '')}".strip(": ")
        for d in error.details
        if isinstance(d, dict)
    ]
    return found or [error.message]


@router.get("")
async def directory(
    ctx: OperatorPage,
    q: Annotated[str, Query(max_length=100)] = "",
    prefecture: str = "",
    org_type: str = "",
    capability: str = "",
    topic: str = "",
    active: str = "",
    stale: str = "",
    page: int = 1,
    done: str = "",
) -> Response:
    """One page of what the filters find in the whole register, by name, with the total."""
    filters = {"q": q.strip(), "prefecture": prefecture, "org_type": org_type}
    filters |= {"capability": capability, "topic": topic, "active": active, "stale": stale}
    page = max(1, min(page, 100_000))
    problems: list[str] = []
    found = OrganisationPage(contents=[], total_items=0, total_pages=0)
    try:
        found = await ctx.read(ORGANISATION_SEARCH, params={**filters, "page": page, "per_page": PER_PAGE})
    except BackendError as error:
        if error.status != 422:
            raise
        problems = _problems(error)
    query = {k: v for k, v in filters.items() if v}
    pages = found.total_pages
    return await ctx.render(
        "ops/directory.html",
        organisations=found.contents,
        total=found.total_items,
        page=page,
        pages=pages,
        previous_url=f"/ops/directory?{urlencode({**query, 'page': page - 1})}" if page > 1 else None,
        next_url=f"/ops/directory?{urlencode({**query, 'page': page + 1})}" if page < pages else None,
        filters=filters,
        org_types=ORG_TYPES,
        capabilities=CAPABILITIES,
        topics=[t.value for t in Topic],
        problems=problems,
        done=done,
    )


# ---- create and edit --------------------------------------------------------------------------


async def _form_page(
    ctx: Ctx,
    values: dict[str, Any],
    *,
    organisation_id: uuid.UUID | None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return await ctx.render(
        "ops/directory_form.html",
        status_code=status_code,
        v=values,
        organisation_id=organisation_id,
        problems=problems or [],
        org_types=ORG_TYPES,
        capabilities=CAPABILITIES,
        channels=CHANNELS,
        residencies=RESIDENCIES,
        genders=[g.value for g in Gender if g is not Gender.UNKNOWN],
        topics=[t.value for t in Topic],
        days=DAYS,
    )


@router.get("/new")
async def new_organisation(ctx: OperatorPage) -> Response:
    return await _form_page(ctx, blank_values(), organisation_id=None)


@router.get("/{organisation_id}/edit")
async def edit_organisation(ctx: OperatorPage, organisation_id: uuid.UUID) -> Response:
    record = await ctx.read(ORGANISATION_RECORD, organisation_id=organisation_id)
    return await _form_page(ctx, values_from_record(record), organisation_id=organisation_id)


async def _save(ctx: Ctx, request: Request, organisation_id: uuid.UUID | None) -> Response:
    form = await request.form()
    posted = {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}
    values, body, wrong = body_from_form(posted)
    if wrong:
        problems = [
            ctx.t("ops.dir.problem.hours", n=w.split(":")[1])
            if w.startswith("hours:")
            else ctx.t(f"ops.dir.problem.{w}")
            for w in wrong
        ]
        return await _form_page(
            ctx, values, organisation_id=organisation_id, problems=problems, status_code=422
        )
    try:
        if organisation_id is None:
            saved = await ctx.send(REGISTER_ORGANISATION, body)
            organisation_id = uuid.UUID(saved.id)
        else:
            await ctx.call("directory", "PUT", f"/v1/organisations/{organisation_id}", json=body)
    except BackendError as error:
        if error.status != 422:
            raise
        return await _form_page(
            ctx, values, organisation_id=organisation_id, problems=_problems(error), status_code=422
        )
    request.app.state.organisation_names.pop(str(organisation_id), None)
    return RedirectResponse(f"/ops/directory?{urlencode({'q': str(organisation_id), 'done': 'saved'})}", 303)


@router.post("/new")
async def create_organisation(ctx: OperatorPage, _: Checked, request: Request) -> Response:
    return await _save(ctx, request, None)


@router.post("/{organisation_id}/edit")
async def update_organisation(
    ctx: OperatorPage, _: Checked, request: Request, organisation_id: uuid.UUID
) -> Response:
    return await _save(ctx, request, organisation_id)


# ---- confirmation and deactivation ------------------------------------------------------------


@router.post("/{organisation_id}/verify")
async def verify(ctx: OperatorPage, _: Checked, organisation_id: uuid.UUID) -> Response:
    """The operator confirmed the entry with the organisation (by phone, say) just now."""
    await ctx.call("directory", "POST", f"/v1/organisations/{organisation_id}/verification", json={})
    return RedirectResponse(
        f"/ops/directory?{urlencode({'q': str(organisation_id), 'done': 'verified'})}", 303
    )


@router.get("/{organisation_id}/deactivate")
async def confirm_deactivate(ctx: OperatorPage, organisation_id: uuid.UUID) -> Response:
    """What deactivating would do, and the button that does it."""
    found = await ctx.read(ORGANISATION, organisation_id=organisation_id)
    return await ctx.render("ops/directory_confirm.html", action="deactivate", organisation=found)


@router.post("/{organisation_id}/deactivate")
async def deactivate(ctx: OperatorPage, _: Checked, organisation_id: uuid.UUID) -> Response:
    await ctx.call("directory", "DELETE", f"/v1/organisations/{organisation_id}")
    return RedirectResponse("/ops/directory?done=deactivated", status_code=303)


# ---- HSDS export and import -------------------------------------------------------------------


async def _slow_call(ctx: Ctx, method: str, path: str, *, body: Any = None) -> httpx.Response:
    """A call over the whole register (export, import): it may take longer than a screen's calls."""
    client = ctx.backends.client("directory")
    headers = {"Authorization": f"Bearer {ctx.token()}", "Accept": "application/json"}
    request = client.build_request(method, path, json=body, headers=headers, timeout=WHOLE_REGISTER_TIMEOUT_S)
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as error:
        raise Unreachable("directory", 503, "unreachable", "directory did not answer", []) from error
    if response.is_success:
        return response
    await response.aread()
    await response.aclose()
    envelope = response.json().get("error", {}) if response.content.startswith(b"{") else {}
    raise BackendError(
        "directory",
        response.status_code,
        str(envelope.get("code", "http_error")),
        str(envelope.get("message", response.reason_phrase)),
        list(envelope.get("details", [])),
    )


@router.get("/export")
async def export_hsds(ctx: OperatorPage) -> Response:
    """The whole register as one HSDS 3.0 JSON file (what the import reads back), streamed through."""
    response = await _slow_call(ctx, "GET", "/v1/hsds/export")
    return ctx.finish(
        StreamingResponse(
            response.aiter_bytes(),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="tsunagu-register-hsds.json"'},
            background=BackgroundTask(response.aclose),
        )
    )


@router.get("/import")
async def import_form(ctx: OperatorPage, problem: str = "") -> Response:
    return await ctx.render("ops/directory_import.html", problems=[problem] if problem else [])


def _pack(document: dict[str, Any]) -> str:
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def _unpack(packed: str) -> dict[str, Any] | None:
    try:
        raw = zlib.decompressobj().decompress(base64.b64decode(packed, validate=True), MAX_IMPORT_BYTES)
        document = json.loads(raw)
    except (binascii.Error, zlib.error, ValueError):
        return None
    return document if isinstance(document, dict) else None


@router.post("/import")
async def import_preview(ctx: OperatorPage, _: Checked, request: Request) -> Response:
    """The file is read and summarised; nothing changes until the operator confirms."""
    upload = (await request.form()).get("file")
    raw = (
        await upload.read(MAX_IMPORT_BYTES + 1) if upload is not None and not isinstance(upload, str) else b""
    )
    if not raw or len(raw) > MAX_IMPORT_BYTES:
        return await ctx.render(
            "ops/directory_import.html", status_code=422, problems=[ctx.t("ops.dir.import.bad_file")]
        )
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except ValueError:
        document = None
    organisations = document.get("organizations") if isinstance(document, dict) else None
    if not isinstance(organisations, list) or not organisations:
        return await ctx.render(
            "ops/directory_import.html", status_code=422, problems=[ctx.t("ops.dir.import.bad_file")]
        )
    assert isinstance(document, dict)
    names = [str(o.get("name", "")) for o in organisations if isinstance(o, dict)]
    return await ctx.render(
        "ops/directory_confirm.html",
        action="import",
        count=len(organisations),
        names=names[:20],
        more=max(0, len(names) - 20),
        packed=_pack(document),
    )


@router.post("/import/confirm")
async def import_confirmed(
    ctx: OperatorPage, _: Checked, document: Annotated[str, Form(max_length=MAX_PACKED_CHARS)]
) -> Response:
    unpacked = _unpack(document)
    if unpacked is None:
        return await ctx.render(
            "ops/directory_import.html", status_code=422, problems=[ctx.t("ops.dir.import.bad_file")]
        )
    try:
        response = await _slow_call(ctx, "POST", "/v1/hsds/import", body=unpacked)
        await response.aread()
        await response.aclose()
        summary = response.json()
    except BackendError as error:
        if error.status != 422:
            raise
        return await ctx.render("ops/directory_import.html", status_code=422, problems=_problems(error)[:20])
    return await ctx.render("ops/directory_import.html", summary=summary, problems=[])
