"""The operator's failed-handoff page: a referral no organisation took (unmatched or exhausted) is
not a dead end. The operator searches the whole directory (server-side, by name, area, type and
capability), sees each organisation's phone and hours to call it, offers the case to the one they
chose (a new attempt of the same referral, after a confirmation step), or records that the case
was handled another way, with a note that stays in referral's database.

What the operator may do comes from referral's `actions` (`reoffered`, `handled_elsewhere`),
never from a guess here."""

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from contracts.municipality import register
from contracts.vocabulary import HandledElsewhereReason
from web import live
from web.api import directory, referral
from web.api.directory import Organisation, OrganisationPage
from web.api.referral import Referral
from web.backends import BackendError, refusal
from web.deps import Checked, Ctx, OperatorPage
from web.directory_form import CAPABILITIES, DAYS, ORG_TYPES
from web.timeline import Timelines, names_of, organisation_names, timeline_html

log = logging.getLogger(__name__)

router = APIRouter(prefix="/ops")

REOFFER, HANDLED_ELSEWHERE = "reoffered", "handled_elsewhere"
HANDLED_REASONS = tuple(reason.value for reason in HandledElsewhereReason)
PER_PAGE = 20
PROBLEMS = ("already_offered", "not_allowed", "reason", "note")
_MUNICIPALITY = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class Search:
    """The operator's search, as typed; `area` empty means the whole country."""

    q: str = ""
    area: str = ""
    org_type: str = ""
    capability: str = ""
    page: int = 1

    def params(self) -> dict[str, Any]:
        """directory's /v1/organisations/search parameters: active organisations only."""
        found: dict[str, Any] = {"active": "true", "page": self.page, "per_page": PER_PAGE}
        for key, value in (
            ("q", self.q),
            ("municipality_code", self.area),
            ("org_type", self.org_type),
            ("capability", self.capability),
        ):
            if value:
                found[key] = value
        return found

    def url(self, referral_id: str, page: int) -> str:
        query = {"q": self.q, "area": self.area, "org_type": self.org_type, "capability": self.capability}
        return f"/ops/referrals/{referral_id}?" + urlencode({**query, "page": page}) + "#rescue-results"


def search_of(query: Mapping[str, str], *, default_area: str) -> Search:
    """The search from the page's query; unknown codes are dropped, never sent on. With no search
    yet, the case's own area (which reaches its city, prefecture and the national lines)."""
    if "area" not in query:
        return Search(area=default_area)
    area = query.get("area", "").strip()
    page = query.get("page", "1")
    return Search(
        q=query.get("q", "").strip()[:100],
        area=area if _MUNICIPALITY.match(area) else "",
        org_type=query.get("org_type", "") if query.get("org_type") in ORG_TYPES else "",
        capability=query.get("capability", "") if query.get("capability") in CAPABILITIES else "",
        page=int(page) if page.isdigit() and 0 < int(page) <= 1000 else 1,
    )


def hours_of(organisation: Organisation) -> list[dict[str, Any]]:
    """Each weekly rule of its services, once: days (catalogue codes) and Japan-time clock."""
    seen: list[dict[str, Any]] = []
    for service in organisation.services:
        for rule in service.schedules:
            days = [d for d in DAYS if d in rule.byday.split(",")]
            item = {"days": days, "opens": rule.opens_at, "closes": rule.closes_at}
            if item not in seen:
                seen.append(item)
    return seen


def candidate_of(organisation: Organisation, *, tried: set[str]) -> dict[str, Any]:
    phone = organisation.phone or ""
    return {
        "id": organisation.id,
        "name": organisation.name,
        "org_type": organisation.org_type,
        "phone": phone,
        "tel": re.sub(r"[^0-9+]", "", phone),
        "hours": hours_of(organisation),
        "public_body": organisation.public_body,
        "coverage": [_place(code) for code in organisation.coverage[:3]],
        "more_coverage": max(0, len(organisation.coverage) - 3),
        "channels": organisation.channels,
        "tried": organisation.id in tried,
    }


def _place(code: str) -> str:
    if code == "JP":
        return code
    return register().display_name(code) or code


def _tried(found: Referral) -> set[str]:
    return {a.organisation_id for a in found.attempts}


async def panel(ctx: Ctx, found: Referral, query: Mapping[str, str]) -> dict[str, Any]:
    """What the referral page shows an operator: the actions referral allows, and the search."""
    if REOFFER not in found.actions and HANDLED_ELSEWHERE not in found.actions:
        return {"rescue": None}
    search = search_of(query, default_area=found.municipality_code)
    problem = ""
    results = OrganisationPage(contents=[], total_items=0, total_pages=1)
    try:
        results = await ctx.read(directory.ORGANISATION_SEARCH, params=search.params())
    except BackendError as error:
        if error.status != 422:
            raise
        problem = "search_invalid"
    page, pages = search.page, results.total_pages or 1
    tried = _tried(found)
    return {
        "rescue": {
            "can_reoffer": REOFFER in found.actions,
            "can_close": HANDLED_ELSEWHERE in found.actions,
            "search": search,
            "area_name": _place(search.area) if search.area else "",
            "candidates": [candidate_of(o, tried=tried) for o in results.contents],
            "total": results.total_items,
            "page": page,
            "pages": pages,
            "previous_url": search.url(found.id, page - 1) if page > 1 else None,
            "next_url": search.url(found.id, page + 1) if page < pages else None,
            "problem": problem,
        },
        "org_types": ORG_TYPES,
        "capabilities": CAPABILITIES,
        "handled_reasons": HANDLED_REASONS,
    }


async def status_html(ctx: Ctx, found: Referral) -> str:
    """The live part of the page: where the referral stands (a choice being confirmed, the
    directory's refusal), then its timeline."""
    names = await organisation_names(ctx, [found])
    pending = found.reoffer_organisation_id
    if pending and pending not in names:
        names |= await names_of(ctx, {pending})
    refused = next((e for e in reversed(found.timeline) if e.state == "reoffer_refused"), None)
    status = ctx.templates.get_template("partials/rescue_status.html").render(
        t=ctx.t, referral=found, names=names, pending=pending, refused=refused
    )
    return status + timeline_html(ctx, Timelines(referrals=[found], names=names))


@router.get("/referrals/{referral_id}/stream")
async def referral_stream(ctx: OperatorPage, referral_id: uuid.UUID, request: Request) -> Response:
    async def poll() -> dict[str, Any]:
        found = await ctx.read(referral.REFERRAL, referral_id=referral_id)
        return {
            "html": await status_html(ctx, found),
            "states": [found.state, found.reoffer_organisation_id],
            "announce": ctx.t.label("state", found.state),
        }

    return live.stream(request, poll, interval_s=max(ctx.settings.live_poll_interval_s, 1.0))


@router.get("/referrals/{referral_id}/offer")
async def confirm_offer(
    ctx: OperatorPage, referral_id: uuid.UUID, organisation_id: Annotated[uuid.UUID, Query()]
) -> Response:
    """The confirmation step: who will be offered the case, how to call them, what happens next."""
    found = await ctx.read(referral.REFERRAL, referral_id=referral_id)
    if REOFFER not in found.actions:
        return RedirectResponse(f"/ops/referrals/{referral_id}?problem=not_allowed", status_code=303)
    organisation = await ctx.read(directory.ORGANISATION, organisation_id=organisation_id)
    return await ctx.render(
        "ops/reoffer_confirm.html",
        referral=found,
        candidate=candidate_of(organisation, tried=_tried(found)),
        area_name=_place(found.municipality_code),
    )


@router.post("/referrals/{referral_id}/offer")
async def offer(
    ctx: OperatorPage,
    _: Checked,
    referral_id: uuid.UUID,
    organisation_id: Annotated[uuid.UUID, Form()],
) -> Response:
    path = f"/v1/referrals/{referral_id}/reoffer"
    body = {"organisation_id": str(organisation_id)}
    if refused := await refusal(ctx.call("referral", "POST", path, json=body), 409):
        problem = "already_offered" if refused.code == "already_offered" else "not_allowed"
        return RedirectResponse(f"/ops/referrals/{referral_id}?problem={problem}", status_code=303)
    log.info("referral %s: an operator chose organisation %s", referral_id, organisation_id)
    return RedirectResponse(f"/ops/referrals/{referral_id}?done=reoffer_requested", status_code=303)


@router.post("/referrals/{referral_id}/handled-elsewhere")
async def handled_elsewhere(
    ctx: OperatorPage,
    _: Checked,
    referral_id: uuid.UUID,
    reason: Annotated[str, Form(max_length=40)],
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if reason not in HANDLED_REASONS:
        return RedirectResponse(f"/ops/referrals/{referral_id}?problem=reason#handled", status_code=303)
    if reason == "other" and not note.strip():
        return RedirectResponse(f"/ops/referrals/{referral_id}?problem=note#handled", status_code=303)
    body: dict[str, Any] = {"reason": reason}
    if note.strip():
        body["note"] = note.strip()
    path = f"/v1/referrals/{referral_id}/handled-elsewhere"
    if await refusal(ctx.call("referral", "POST", path, json=body), 409):
        return RedirectResponse(f"/ops/referrals/{referral_id}?problem=not_allowed", status_code=303)
    return RedirectResponse(f"/ops/referrals/{referral_id}?done=handled_elsewhere", status_code=303)
