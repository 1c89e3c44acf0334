"""The partner portal: this organisation's handoffs only, acknowledgement, disclosure, outcomes.

Every call carries the partner's own token, so referral, notify, intake and directory decide
what this organisation may see; a handoff of another organisation is a 404 from them and here.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from contracts.municipality import register
from contracts.vocabulary import DeclineReason, OutcomeCode, OutcomeStage
from web import live, risk
from web.api import directory, intake, notify, referral
from web.api.directory import Schedule, ServiceRecord
from web.api.intake import Disclosure
from web.api.notify import Alert
from web.api.referral import Attempt, Referral
from web.backends import BackendError, NotYetAvailable, refusal
from web.deps import Checked, Ctx, PartnerPage
from web.timeline import announcement

router = APIRouter(prefix="/portal")

OPEN_STATES = ("offered", "notified")
ACCEPTED_STATES = ("acknowledged", "contacted", "accompanied", "closed")
ACCOMPANIED_TO = ("hospital", "police", "welfare_office", "other")


def _org(ctx: Ctx) -> uuid.UUID:
    assert ctx.user is not None and ctx.user.organisation_id is not None
    return ctx.user.organisation_id


def _alert_view(alert: Alert) -> Alert:
    """A notify alert as the screens show it: the municipality by its name (the register's, should
    notify not have named it); times are shown by the templates' `jst` filter."""
    name = alert.municipality_name or register().display_name(alert.municipality_code)
    return alert.model_copy(update={"municipality_name": name})


async def _inbox(ctx: Ctx) -> dict[str, Any]:
    """The organisation's handoff alerts, newest first, from notify's portal inbox."""
    items = await ctx.read(notify.INBOX, params={"limit": 50})
    return {"items": [_alert_view(item) for item in items]}


def _inbox_html(ctx: Ctx, inbox: dict[str, Any]) -> str:
    return ctx.templates.get_template("partials/inbox.html").render(t=ctx.t, inbox=inbox)


@router.get("")
async def inbox_page(ctx: PartnerPage) -> Response:
    inbox = await _inbox(ctx)
    return await ctx.render("portal/inbox.html", inbox_html=_inbox_html(ctx, inbox))


@router.get("/inbox/stream")
async def inbox_stream(ctx: PartnerPage, request: Request) -> Response:
    async def poll() -> dict[str, Any]:
        inbox = await _inbox(ctx)
        items = inbox["items"]
        return {
            "html": _inbox_html(ctx, inbox),
            "count": len(items),
            "states": [f"{h.referral_id}:{h.state}" for h in items],
            "announce": announcement(ctx, [h.state for h in items]),
        }

    return live.stream(request, poll, interval_s=ctx.settings.live_poll_interval_s)


async def _offered(ctx: Ctx, referral_id: uuid.UUID, attempt: int | None) -> Alert | None:
    """This organisation's alert of the attempt: what it was offered (needs, age band, language),
    from notify. None if notify has none or cannot say now: the partner must still be able to act."""
    try:
        items = await ctx.read(notify.INBOX, params={"referral_id": str(referral_id), "limit": 20})
    except BackendError:
        return None
    mine = [a for a in items if a.referral_id == str(referral_id)]
    found = next((a for a in mine if a.attempt == attempt), mine[0] if mine else None)
    return _alert_view(found) if found else None


@dataclass(frozen=True)
class CaseFacts:
    """What the partner was told of the case; None where nobody can say now (no alert, or notify
    down): unknown is not "none recorded"."""

    municipality_name: str | None
    need_tags: list[str] | None
    age_band: str | None
    language: str | None


@dataclass(frozen=True)
class HandoffView:
    """The referral as referral lets this partner see it (its own attempts and timeline only), its
    latest attempt, and what its alert said of the case."""

    referral: Referral
    mine: Attempt | None
    case: CaseFacts


async def _handoff(ctx: Ctx, referral_id: uuid.UUID) -> HandoffView:
    found = await ctx.read(referral.REFERRAL, referral_id=referral_id)
    mine = found.attempts[-1] if found.attempts else None
    offered = await _offered(ctx, referral_id, mine.attempt if mine else None)
    case = CaseFacts(
        municipality_name=(offered and offered.municipality_name)
        or register().display_name(found.municipality_code),
        need_tags=offered.need_tags if offered else None,
        age_band=offered.age_band if offered else None,
        language=offered.language if offered else None,
    )
    return HandoffView(found, mine, case)


async def _render_handoff(
    ctx: Ctx,
    handoff: HandoffView,
    *,
    done: str = "",
    disclosure: Disclosure | None = None,
    problem: str = "",
) -> Response:
    # The risk findings come only when consent (or the legal basis) covers them, as the contact does.
    findings, protective = risk.findings(disclosure.risk if disclosure else None)
    return await ctx.render(
        "portal/handoff.html",
        referral=handoff.referral,
        mine=handoff.mine,
        case=handoff.case,
        done=done,
        problem=problem,
        open_states=OPEN_STATES,
        accepted_states=ACCEPTED_STATES,
        decline_reasons=[r.value for r in DeclineReason],
        stages=[s.value for s in OutcomeStage],
        outcome_codes=[c.value for c in OutcomeCode],
        accompanied_to=ACCOMPANIED_TO,
        disclosure=disclosure,
        findings=findings,
        protective=protective,
    )


@router.get("/handoffs/{referral_id}")
async def handoff_page(ctx: PartnerPage, referral_id: uuid.UUID, done: str = "") -> Response:
    return await _render_handoff(ctx, await _handoff(ctx, referral_id), done=done)


def _back(referral_id: uuid.UUID, done: str) -> Response:
    return RedirectResponse(f"/portal/handoffs/{referral_id}?done={done}", status_code=303)


async def _act(ctx: Ctx, referral_id: uuid.UUID, path: str, body: dict[str, Any], done: str) -> Response:
    """A partner's action; a refusal with a reason (reassigned, illegal transition) is shown."""
    if refused := await refusal(ctx.call("referral", "POST", path, json=body), 409, 422):
        return await _render_handoff(ctx, await _handoff(ctx, referral_id), problem=refused.code)
    return _back(referral_id, done)


@router.post("/handoffs/{referral_id}/acknowledge")
async def acknowledge(
    ctx: PartnerPage, _: Checked, referral_id: uuid.UUID, attempt: Annotated[int, Form(ge=1, le=100)]
) -> Response:
    path = f"/v1/referrals/{referral_id}/attempts/{attempt}/acknowledge"
    return await _act(ctx, referral_id, path, {}, "acknowledged")


@router.post("/handoffs/{referral_id}/decline")
async def decline(
    ctx: PartnerPage,
    _: Checked,
    referral_id: uuid.UUID,
    attempt: Annotated[int, Form(ge=1, le=100)],
    reason: Annotated[DeclineReason, Form()],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    body: dict[str, Any] = {"reason": reason.value}
    if note.strip():
        body["note"] = note.strip()
    path = f"/v1/referrals/{referral_id}/attempts/{attempt}/decline"
    return await _act(ctx, referral_id, path, body, "declined")


@router.post("/handoffs/{referral_id}/outcome")
async def record_outcome(
    ctx: PartnerPage,
    _: Checked,
    referral_id: uuid.UUID,
    stage: Annotated[OutcomeStage, Form()],
    accompanied_to: Annotated[str, Form(max_length=40)] = "",
    outcome: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    body: dict[str, Any] = {"stage": stage.value}
    if stage is OutcomeStage.ACCOMPANIED:
        body["accompanied_to"] = accompanied_to if accompanied_to in ACCOMPANIED_TO else "other"
    if stage is OutcomeStage.CLOSED:
        body["outcome"] = outcome if outcome in {c.value for c in OutcomeCode} else OutcomeCode.OTHER.value
    return await _act(ctx, referral_id, f"/v1/referrals/{referral_id}/outcome", body, stage.value)


@router.post("/handoffs/{referral_id}/disclosure")
async def disclosure(ctx: PartnerPage, _: Checked, referral_id: uuid.UUID) -> Response:
    """Contact details and summary, released by intake, which records the provision (a POST here:
    asking for them is a deliberate act that leaves a record)."""
    handoff = await _handoff(ctx, referral_id)
    released = await ctx.read(intake.DISCLOSURE, case_id=handoff.referral.case_id)
    return await _render_handoff(ctx, handoff, disclosure=released)


# ---- the organisation's own directory entry -------------------------------------------------


SCHEDULE_ROWS = 3


@router.get("/organisation")
async def organisation_page(ctx: PartnerPage, done: str = "", problem: str = "") -> Response:
    org = _org(ctx)
    organisation = await ctx.read(directory.ORGANISATION, organisation_id=org)
    # The organisation's main service shares its id: its hours and capacity are what matching reads.
    main: ServiceRecord | None
    try:
        main = await ctx.read(directory.SERVICE, service_id=org)
    except NotYetAvailable:
        main = None  # a directory without HSDS services: the entry is shown, not editable here
    schedules: list[Schedule | None] = list(main.schedules) if main else []
    schedules += [None] * max(SCHEDULE_ROWS - len(schedules), 0)  # blank rows to add hours in
    return await ctx.render(
        "portal/organisation.html",
        organisation=organisation,
        service=main,
        schedules=schedules,
        done=done,
        problem=problem,
    )


_SERVICE_FIELDS = (
    "coverage",
    "topics",
    "capabilities",
    "languages",
    "minimum_age",
    "maximum_age",
    "genders",
    "residency",
)


@router.post("/organisation/service")
async def update_service(ctx: PartnerPage, _: Checked, request: Request) -> Response:
    """Description and weekly hours of the main service; everything else is sent back unchanged."""
    org = _org(ctx)
    form = await request.form()
    main = await ctx.read(directory.SERVICE, service_id=org)
    schedules = []
    for i in range(SCHEDULE_ROWS):
        days = [d for d in form.getlist(f"byday_{i}") if isinstance(d, str)]
        opens, closes = str(form.get(f"opens_{i}", "")), str(form.get(f"closes_{i}", ""))
        if days and opens and closes:
            schedules.append(
                {"freq": "WEEKLY", "byday": ",".join(days), "opens_at": opens, "closes_at": closes}
            )
    body = main.model_dump(include=set(_SERVICE_FIELDS), exclude_none=True)
    description = str(form.get("description", "")).strip()
    body.update(
        organization_id=str(org),
        name=main.name,
        description=description or None,
        status=main.status,
        schedules=schedules,
    )
    if refused := await refusal(ctx.call("directory", "PUT", f"/v1/services/{org}", json=body), 422):
        return RedirectResponse(f"/portal/organisation?problem={refused.code}", status_code=303)
    return RedirectResponse("/portal/organisation?done=service", status_code=303)


@router.post("/organisation/capacity")
async def update_capacity(
    ctx: PartnerPage,
    _: Checked,
    available: Annotated[int, Form(ge=0, le=100000)],
    maximum: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    body: dict[str, Any] = {"available": available}
    if maximum.strip().isdigit():
        body["maximum"] = int(maximum)
    await ctx.call("directory", "PUT", f"/v1/services/{_org(ctx)}/capacity", json=body)
    return RedirectResponse("/portal/organisation?done=capacity", status_code=303)
