"""The counsellor's live notice: a case they recorded whose handoff failed (no organisation could be
found, or every one offered let it pass) is shown at once on their console pages, and announced to
screen readers when it appears. Operators act on it; the counsellor knows, and can open the case.

Polled server-side for the counsellor's own recent cases (intake answers only those), with their
referrals read in one request."""

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.municipality import register
from web import live
from web.api import intake, referral
from web.deps import CounsellorPage, Ctx

router = APIRouter(prefix="/console")

FAILED_STATES = ("unmatched", "exhausted")
RECENT_CASES = 50  # the referral list accepts 50 case ids at most


@dataclass(frozen=True)
class FailedHandoff:
    """A case of the counsellor's whose handoff needs attention, as the notice shows it."""

    case_id: str
    state: str
    severity: str
    topic: str
    area: str  # the municipality's name (its code if the register lacks it)
    since: str


async def failed_handoffs(ctx: Ctx) -> list[FailedHandoff]:
    """The counsellor's recent cases whose handoff needs attention, oldest first."""
    own = await ctx.read(intake.CONSULTATIONS, params={"limit": RECENT_CASES})
    case_ids = [c.case_id for c in own]
    if not case_ids:
        return []
    referrals = await ctx.read(referral.REFERRALS, params={"case_id": case_ids, "limit": 200})
    return [
        FailedHandoff(
            case_id=r.case_id,
            state=r.state,
            severity=r.severity,
            topic=r.topic,
            area=register().display_name(r.municipality_code) or r.municipality_code,
            since=r.updated_at,
        )
        for r in referrals
        if r.state in FAILED_STATES
    ]


def attention_html(ctx: Ctx, items: list[FailedHandoff]) -> str:
    template = ctx.templates.get_template("partials/attention.html")
    return template.render(t=ctx.t, items=items)


@router.get("/attention/stream")
async def attention_stream(ctx: CounsellorPage, request: Request) -> Response:
    async def poll() -> dict[str, Any]:
        items = await failed_handoffs(ctx)
        return {
            "html": attention_html(ctx, items),
            "states": sorted(f"{i.case_id}:{i.state}" for i in items),
            "announce": ctx.t("attention.announce", count=len(items)) if items else "",
        }

    return live.stream(request, poll, interval_s=max(ctx.settings.live_poll_interval_s, 2.0))
