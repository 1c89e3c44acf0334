"""The operator dashboard: pipeline figures, cases needing attention, the last 24 hours, dead
letters with replay, voice-menu configuration and directory administration."""

import asyncio
import logging
import uuid
from datetime import timedelta, timezone
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from contracts.topics import CONSULTATIONS, DELIVERIES, EVENT_TOPICS
from contracts.vocabulary import Topic
from web import live, service
from web.backends import BackendError, NotYetAvailable
from web.console import organisation_names, timeline_html
from web.deps import Checked, Ctx, OperatorPage
from web.pipeline import HourCount

log = logging.getLogger(__name__)

router = APIRouter(prefix="/ops")

# Every state of referral's lifecycle; a state referral does not know yet simply counts nothing.
STATES = (
    "requested",
    "unmatched",
    "offered",
    "notified",
    "acknowledged",
    "contacted",
    "accompanied",
    "closed",
    "exhausted",
    "withdrawn",
)
ATTENTION_STATES = ("unmatched", "exhausted")
LIST_LIMIT = 200
CHART_TOPICS = (CONSULTATIONS.name, DELIVERIES.name)
# The chart's hours are Japan's: the hotline's peaks (22:00) read as people know them.
_JST = timezone(timedelta(hours=9), "JST")


async def _by_state(ctx: Ctx) -> dict[str, int]:
    async def count(state: str) -> tuple[str, int]:
        try:
            found = await ctx.call(
                "referral", "GET", "/v1/referrals", params={"state": state, "limit": LIST_LIMIT}
            )
        except BackendError as error:
            if error.status == 422:  # a state this referral service does not have
                return state, -1
            raise
        return state, len(found or [])

    pairs = await asyncio.gather(*(count(s) for s in STATES))
    return {state: n for state, n in pairs if n >= 0}


async def _attention(ctx: Ctx) -> dict[str, Any]:
    """Referrals an operator must look at: no organisation, nobody left, or past their deadline."""
    items: list[dict[str, Any]] = []
    for state in ATTENTION_STATES:
        try:
            found = await ctx.call("referral", "GET", "/v1/referrals", params={"state": state, "limit": 50})
        except BackendError as error:
            if error.status == 422:
                continue
            raise
        items += [{**r, "why": state} for r in found or []]
    overdue: list[dict[str, Any]] | None
    try:
        overdue = await ctx.call("referral", "GET", "/v1/referrals/overdue", params={"limit": 50})
        items += [{**r, "why": "overdue"} for r in overdue]
    except (NotYetAvailable, BackendError):
        overdue = None
    return {"items": items, "overdue": None if overdue is None else len(overdue)}


async def _figures(ctx: Ctx, request: Request) -> dict[str, Any]:
    pipeline = request.app.state.pipeline
    by_state, attention = await asyncio.gather(_by_state(ctx), _attention(ctx))
    figures: dict[str, Any] = {"by_state": by_state, "attention": attention, "limit": LIST_LIMIT}
    try:
        snapshot = await pipeline.snapshot()
        hourly = await pipeline.hourly(CHART_TOPICS)
        figures["lag"] = snapshot.lag
        figures["dead_letters"] = snapshot.dead_letters
        figures["dead_total"] = sum(snapshot.dead_letters.values())
        figures["consultations_24h"] = sum(h.count for h in hourly[CONSULTATIONS.name])
        figures["hourly"] = hourly
    except Exception as error:
        log.warning("the broker's figures are unavailable: %s", type(error).__name__)
        figures["broker_error"] = True
    return figures


def _chart(hourly: dict[str, list[HourCount]]) -> dict[str, Any]:
    """Two series of 24 hourly bars, scaled for an inline SVG."""
    first, second = (hourly.get(topic, []) for topic in CHART_TOPICS)
    peak = max([h.count for h in first + second] + [1])
    bars = []
    for i, hour in enumerate(first):
        other = second[i].count if i < len(second) else 0
        bars.append(
            {
                "x": 30 + i * 26,
                "h1": round(hour.count / peak * 120),
                "h2": round(other / peak * 120),
                "n1": hour.count,
                "n2": other,
                "label": hour.hour.astimezone(_JST).strftime("%H"),
            }
        )
    return {"bars": bars, "peak": peak}


def _dashboard_html(ctx: Ctx, figures: dict[str, Any]) -> str:
    chart = _chart(figures["hourly"]) if "hourly" in figures else None
    return ctx.templates.get_template("partials/dashboard.html").render(
        t=ctx.t, f=figures, chart=chart, states=STATES
    )


@router.get("")
async def dashboard(ctx: OperatorPage, request: Request) -> Response:
    figures = await _figures(ctx, request)
    alerts: list[dict[str, Any]] = []
    try:
        alerts = await request.app.state.pipeline.recent_alerts(limit=20)
    except Exception as error:
        log.warning("operator alerts unavailable: %s", type(error).__name__)
    return await ctx.render(
        "ops/dashboard.html",
        dashboard_html=_dashboard_html(ctx, figures),
        alerts=alerts,
        js_messages=ctx.t.prefixed("js."),
    )


@router.get("/stream")
async def dashboard_stream(ctx: OperatorPage, request: Request) -> Response:
    async def poll() -> dict[str, Any]:
        figures = await _figures(ctx, request)
        return {"html": _dashboard_html(ctx, figures)}

    return live.stream(request, poll, interval_s=max(ctx.settings.live_poll_interval_s, 2.0))


@router.get("/referrals/{referral_id}")
async def referral_page(ctx: OperatorPage, referral_id: uuid.UUID) -> Response:
    referral = await ctx.call("referral", "GET", f"/v1/referrals/{referral_id}")
    names = await organisation_names(ctx, [referral])
    html = timeline_html(ctx, {"referrals": [referral], "names": names})
    trace_ids = [e["trace_id"] for e in referral.get("timeline", []) if e.get("trace_id")]
    return await ctx.render(
        "ops/referral.html",
        referral=referral,
        timeline_html=html,
        trace_url=ctx.settings.trace_url(trace_ids[0]) if trace_ids else None,
    )


# ---- dead letters ---------------------------------------------------------------------------


@router.get("/dead-letters")
async def dead_letters(ctx: OperatorPage, request: Request, done: str = "") -> Response:
    pipeline = request.app.state.pipeline
    topics = []
    for spec in EVENT_TOPICS:
        letters = await pipeline.dead_letters(spec.name)
        replays = await service.replays_of(ctx.pool, topic=spec.name)
        rows = []
        for letter in reversed(letters[-100:]):
            summary = letter.summary()
            replay = replays.get((letter.partition, letter.offset))
            rows.append({**summary, "partition": letter.partition, "replay": replay})
        topics.append({"topic": spec.name, "letters": rows, "total": len(letters)})
    return await ctx.render("ops/dead_letters.html", topics=topics, done=done)


@router.post("/dead-letters/replay")
async def replay_dead_letter(
    ctx: OperatorPage,
    _: Checked,
    request: Request,
    topic: Annotated[str, Form(max_length=200)],
    offset: Annotated[int, Form(ge=0)],
    partition: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    if topic not in {spec.name for spec in EVENT_TOPICS}:
        return RedirectResponse("/ops/dead-letters?done=unknown_topic", status_code=303)
    assert ctx.user is not None
    try:
        await request.app.state.pipeline.replay(topic, offset, partition)
    except LookupError:
        return RedirectResponse("/ops/dead-letters?done=not_found", status_code=303)
    await service.record_replay(
        ctx.pool, topic=topic, partition=partition, offset=offset, replayed_by=ctx.user.username
    )
    log.info("dead letter %s[%d]@%d replayed by an operator", topic, partition, offset)
    return RedirectResponse("/ops/dead-letters?done=replayed", status_code=303)


# ---- voice menu -----------------------------------------------------------------------------


MENU_ROWS = 9


@router.get("/voice-menu")
async def voice_menu(ctx: OperatorPage, done: str = "", problem: str = "") -> Response:
    menus: list[dict[str, Any]] | None
    try:
        menus = await ctx.call("intake", "GET", "/v1/voice-menus")
    except NotYetAvailable:
        menus = None
    return await ctx.render(
        "ops/voice_menu.html",
        menus=menus,
        topics=[t.value for t in Topic],
        rows=range(MENU_ROWS),
        done=done,
        problem=problem,
    )


@router.post("/voice-menu")
async def create_voice_menu(ctx: OperatorPage, _: Checked, request: Request) -> Response:
    """A new menu version (versions never change once made); activating it is a second step."""
    form = await request.form()
    options = []
    for i in range(MENU_ROWS):
        topic = str(form.get(f"topic_{i}", ""))
        if topic not in {t.value for t in Topic}:
            continue
        option: dict[str, Any] = {
            "digit": str(form.get(f"digit_{i}", "")).strip(),
            "topic": topic,
            "label": str(form.get(f"label_{i}", "")).strip() or ctx.t.label("topic", topic),
        }
        desk, number = str(form.get(f"desk_{i}", "")).strip(), str(form.get(f"number_{i}", "")).strip()
        if desk and number:
            option["desk"] = {"organisation_id": desk, "number": number, "hours": {"always": True}}
        options.append(option)
    body: dict[str, Any] = {
        "campaign": str(form.get("campaign", "")).strip(),
        "greeting": str(form.get("greeting", "")).strip(),
        "options": options,
    }
    if str(form.get("fallback_number", "")).strip():
        body["fallback_number"] = str(form.get("fallback_number")).strip()
    try:
        await ctx.call("intake", "POST", "/v1/voice-menus", json=body)
    except BackendError as error:
        if error.status != 422:
            raise
        reasons = "; ".join(str(d.get("field", "")) for d in error.details if isinstance(d, dict))
        return RedirectResponse(f"/ops/voice-menu?problem={quote(reasons or error.code)}", status_code=303)
    return RedirectResponse("/ops/voice-menu?done=created", status_code=303)


@router.post("/voice-menu/{menu_id}/activate")
async def activate_voice_menu(ctx: OperatorPage, _: Checked, menu_id: uuid.UUID) -> Response:
    await ctx.call("intake", "POST", f"/v1/voice-menus/{menu_id}/activate", json={})
    return RedirectResponse("/ops/voice-menu?done=activated", status_code=303)


# ---- directory administration ---------------------------------------------------------------


@router.get("/directory")
async def directory(ctx: OperatorPage, q: str = "", done: str = "") -> Response:
    organisations = await ctx.call("directory", "GET", "/v1/organisations", params={"limit": 200})
    if q:
        organisations = [o for o in organisations if q.lower() in str(o.get("name", "")).lower()]
    return await ctx.render("ops/directory.html", organisations=organisations, q=q, done=done)


@router.post("/directory/{organisation_id}/deactivate")
async def deactivate(ctx: OperatorPage, _: Checked, organisation_id: uuid.UUID) -> Response:
    await ctx.call("directory", "DELETE", f"/v1/organisations/{organisation_id}")
    return RedirectResponse("/ops/directory?done=deactivated", status_code=303)
