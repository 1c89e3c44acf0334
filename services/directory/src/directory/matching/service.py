"""Matching's use cases: rank a referral's needs against the register, for real or as a dry run.

One ranking (`rank`) serves both, so the dry run and the real handoff cannot disagree: same needs,
same listings, same `ranking.match`.
"""

import logging
from datetime import datetime

import asyncpg

from contracts.events import Event, ReferralMatched, ReofferMatched, ReofferRequested
from directory.context import Context
from directory.matching import repository
from directory.matching.answer import candidate_event, outcome_events, reoffer_answer
from directory.matching.domain import MatchResult, Referral, ReferralNeeds
from directory.matching.ranking import match
from directory.matching.reoffer import judge_reoffer
from eventkit import outbox, telemetry

log = logging.getLogger(__name__)


async def rank(
    conn: asyncpg.Connection,
    *,
    context: Context,
    needs: ReferralNeeds,
    at: datetime,
    explain_inactive: bool = False,
) -> MatchResult:
    """The one ranking both the real match and the dry run use: same needs, same listings."""
    area = context.geography.area_of(needs.municipality_code)
    listings = await repository.find_listings(
        conn, area=area.keys(), include_inactive=explain_inactive, cache=context.listings
    )
    return match(needs, listings, area=area, at=at, policy=context.policy)


async def dry_run(
    pool: asyncpg.Pool, *, context: Context, needs: ReferralNeeds, at: datetime | None = None
) -> MatchResult:
    """What a referral with these needs would be matched to (now, or at `at`); nothing is stored.
    Inactive organisations are in its explanation too, so a familiar one's absence is explained;
    they are excluded from the ranking either way."""
    async with pool.acquire() as conn:
        return await rank(conn, context=context, needs=needs, at=at or context.clock(), explain_inactive=True)


async def match_referral(
    conn: asyncpg.Connection, *, referral: Referral, context: Context
) -> tuple[Event, ...] | None:
    """Match a referral inside the caller's transaction: the row and its events, or nothing.

    Returns the staged events, or None when this referral was answered before: the request was
    redelivered (possibly under a new event id) and must not produce a second answer.
    """
    at = context.clock()
    result = await rank(conn, context=context, needs=referral.needs, at=at)
    answer = outcome_events(referral, result, at=at)
    chosen = result.chosen
    first = answer[0]
    if isinstance(first, ReferralMatched):
        reasons = list(first.reasons)
        # The stored candidates also name the service, so that an acknowledgement later takes
        # its place from the right service's capacity.
        candidates = [
            candidate_event(c).model_dump(mode="json") | {"service_id": str(c.service.id)}
            for c in result.candidates
        ]
    else:
        reasons, candidates = list(result.unmatched_reasons()), []
    first_answer = await repository.insert_match(
        conn,
        referral_id=referral.referral_id,
        case_id=referral.case_id,
        organisation_id=chosen.organisation.id if chosen else None,
        reasons=reasons,
        candidates=candidates,
        matched_at=at,
        trace_id=telemetry.current_trace_id(),
        events=outbox.rows_of(conn, answer),
    )
    if not first_answer:
        log.info("referral %s was answered before; not answering again", referral.referral_id)
        return None
    if chosen is not None:
        telemetry.tag(organisation_id=chosen.organisation.id)
        log.info(
            "referral %s matched to organisation %s (%s tier, %d eligible%s)",
            referral.referral_id,
            chosen.organisation.id,
            chosen.tier.value,
            result.eligible_count,
            ", national fallback: operators alerted" if result.fallback else "",
        )
    else:
        log.warning("referral %s unmatched, operators alerted: %s", referral.referral_id, ",".join(reasons))
    return answer


async def answer_reoffer(
    conn: asyncpg.Connection, *, request: ReofferRequested, needs: ReferralNeeds, context: Context
) -> Event:
    """Judge the organisation an operator chose for a referral nobody took, and answer referral
    (in the caller's transaction, through the outbox)."""
    at = context.clock()
    listings = await repository.listings_of_organisation(conn, organisation_id=request.organisation_id)
    area = context.geography.area_of(needs.municipality_code)
    judged = judge_reoffer(request.organisation_id, listings, needs, area=area, at=at, policy=context.policy)
    answer = reoffer_answer(request, judged.candidate, judged.refusals, at=at)
    await outbox.append(conn, answer)
    telemetry.tag(organisation_id=request.organisation_id)
    if isinstance(answer, ReofferMatched):
        log.info("referral %s: operator's choice %s confirmed", request.referral_id, request.organisation_id)
    else:
        log.warning(
            "referral %s: operator's choice %s refused: %s",
            request.referral_id,
            request.organisation_id,
            ",".join(judged.refusals),
        )
    return answer
