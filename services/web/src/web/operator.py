"""The operator dashboard: pipeline figures, cases needing attention, the last 24 hours, dead
letters with replay (the voice menu and the directory have modules of their own)."""

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from contracts.hours import JST
from contracts.municipality import register
from contracts.topics import CONSULTATIONS, DELIVERIES, EVENT_TOPICS
from web import live, rescue, service
from web.api import referral
from web.api.referral import ReferralSummary
from web.backends import BackendError, NotYetAvailable
from web.deps import Checked, Ctx, OperatorPage
from web.pipeline import HourCount

log = logging.getLogger(__name__)

router = APIRouter(prefix="/ops")

# Every state of referral's lifecycle, in the dashboard's order.
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
    "handled_elsewhere",
)
ATTENTION_STATES = ("unmatched", "exhausted")
CHART_TOPICS = (CONSULTATIONS.name, DELIVERIES.name)


@dataclass(frozen=True)
class Flagged:
    """A referral an operator must look at, and why: its state, or "overdue"."""

    referral: ReferralSummary
    why: str


async def _attention(ctx: Ctx) -> dict[str, Any]:
    """Referrals an operator must look at: no organisation, nobody left, or past their deadline."""
    items: list[Flagged] = []
    for state in ATTENTION_STATES:
        try:
            found = await ctx.read(referral.REFERRALS, params={"state": state, "limit": 50})
        except BackendError as error:
            if error.status == 422:
                continue
            raise
        items += [Flagged(r, state) for r in found]
    overdue: list[ReferralSummary] | None
    try:
        overdue = await ctx.read(referral.OVERDUE, params={"limit": 50})
        items += [Flagged(r, "overdue") for r in overdue]
    except (NotYetAvailable, BackendError):
        overdue = None
    return {"items": items, "overdue": None if overdue is None else len(overdue)}


async def _figures(ctx: Ctx, request: Request) -> dict[str, Any]:
    pipeline = request.app.state.pipeline
    # Every referral by its state now and the offers past deadline, counted by referral's database
    # over all of them (never the length of a capped list).
    counts, attention = await asyncio.gather(ctx.read(referral.STATE_COUNTS), _attention(ctx))
    attention["overdue"] = counts.overdue
    figures: dict[str, Any] = {
        "by_state": counts.by_state,
        "attention": attention,
        "needing_attention": counts.needing_attention,  # all of them; the list shows the first
    }
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
                # Japan's hours: the hotline's peaks (22:00) read as people know them.
                "label": hour.hour.astimezone(JST).strftime("%H"),
            }
        )
    return {"bars": bars, "peak": peak}


def _dashboard_html(ctx: Ctx, figures: dict[str, Any]) -> str:
    chart = _chart(figures["hourly"]) if "hourly" in figures else None
    # A state referral has that this list does not know yet still shows, last.
    states = [*STATES, *(s for s in figures["by_state"] if s not in STATES)]
    return ctx.templates.get_template("partials/dashboard.html").render(
        t=ctx.t, f=figures, chart=chart, states=states
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
        prometheus_url=ctx.settings.prometheus_url,
    )


@router.get("/stream")
async def dashboard_stream(ctx: OperatorPage, request: Request) -> Response:
    async def poll() -> dict[str, Any]:
        figures = await _figures(ctx, request)
        return {"html": _dashboard_html(ctx, figures)}

    return live.stream(request, poll, interval_s=max(ctx.settings.live_poll_interval_s, 2.0))


@router.get("/referrals/{referral_id}")
async def referral_page(
    ctx: OperatorPage, request: Request, referral_id: uuid.UUID, done: str = "", problem: str = ""
) -> Response:
    found = await ctx.read(referral.REFERRAL, referral_id=referral_id)
    return await ctx.render(
        "ops/referral.html",
        referral=found,
        timeline_html=await rescue.status_html(ctx, found),
        trace_url=ctx.settings.trace_url(found.trace_ids[0]) if found.trace_ids else None,
        done=done if done in ("reoffer_requested", "handled_elsewhere") else "",
        problem=problem if problem in rescue.PROBLEMS else "",
        municipality_name=register().display_name(found.municipality_code),
        **await rescue.panel(ctx, found, request.query_params),
    )


# ---- dead letters ---------------------------------------------------------------------------


# Per topic on the overview; one topic's older pages are reached by offset (`before`).
DEAD_LETTER_PAGE = 50


@router.get("/dead-letters")
async def dead_letters(
    ctx: OperatorPage,
    request: Request,
    done: str = "",
    topic: Annotated[str, Query(max_length=200)] = "",
    before: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,  # a Kafka offset is an int64
) -> Response:
    pipeline = request.app.state.pipeline
    names = [spec.name for spec in EVENT_TOPICS]
    shown = [topic] if topic in names else names
    topics = []
    for name in shown:
        page = await pipeline.dead_letters(name, limit=DEAD_LETTER_PAGE, before=before if topic else None)
        replays = await service.replays_of(
            ctx.pool, topic=name, letters=[(d.partition, d.offset) for d in page.letters]
        )
        rows = [
            {**d.summary(), "partition": d.partition, "replay": replays.get((d.partition, d.offset))}
            for d in page.letters
        ]
        topics.append({"topic": name, "letters": rows, "total": page.total, "older": page.older})
    return await ctx.render(
        "ops/dead_letters.html", topics=topics, done=done, paged=topic in names, before=before
    )


@router.post("/dead-letters/replay")
async def replay_dead_letter(
    ctx: OperatorPage,
    _: Checked,
    request: Request,
    topic: Annotated[str, Form(max_length=200)],
    offset: Annotated[int, Form(ge=0, le=2**63 - 1)],
    partition: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
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


# The voice-menu editor is web.voice_menu_screens; directory administration is web.directory_screens.
