"""The counsellor's live notice: a case they recorded whose handoff failed (no organisation could be
found, or every one offered let it pass) is shown at once on their console pages, and announced to
screen readers when it appears. Operators act on it; the counsellor knows, and can open the case.

Polled server-side for the counsellor's own recent cases (intake answers only those), with their
referrals read in one request."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.municipality import register
from web import live
from web.deps import CounsellorPage, Ctx

router = APIRouter(prefix="/console")

FAILED_STATES = ("unmatched", "exhausted")
RECENT_CASES = 50  # the referral list accepts 50 case ids at most


async def failed_handoffs(ctx: Ctx) -> list[dict[str, Any]]:
    """The counsellor's recent cases whose handoff needs attention, oldest first."""
    own = await ctx.call("intake", "GET", "/v1/consultations", params={"limit": RECENT_CASES})
    case_ids = [str(c["case_id"]) for c in own or [] if c.get("case_id")]
    if not case_ids:
        return []
    referrals = await ctx.call("referral", "GET", "/v1/referrals", params={"case_id": case_ids, "limit": 200})
    return [
        {
            "case_id": str(r["case_id"]),
            "state": r["state"],
            "severity": r["severity"],
            "topic": r["topic"],
            "area": register().display_name(str(r.get("municipality_code") or ""))
            or r.get("municipality_code"),
            "since": r.get("updated_at"),
        }
        for r in referrals or []
        if r.get("state") in FAILED_STATES
    ]


def attention_html(ctx: Ctx, items: list[dict[str, Any]]) -> str:
    template = ctx.templates.get_template("partials/attention.html")
    return template.render(t=ctx.t, items=items)


@router.get("/attention/stream")
async def attention_stream(ctx: CounsellorPage, request: Request) -> Response:
    async def poll() -> dict[str, Any]:
        items = await failed_handoffs(ctx)
        return {
            "html": attention_html(ctx, items),
            "states": sorted(f"{i['case_id']}:{i['state']}" for i in items),
            "announce": ctx.t("attention.announce", count=len(items)) if items else "",
        }

    return live.stream(request, poll, interval_s=max(ctx.settings.live_poll_interval_s, 2.0))
