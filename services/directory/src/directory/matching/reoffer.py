"""An operator's choice of organisation for a referral nobody took, judged. Pure: no I/O, no clock.

The operator has decided, so what the ranking would hold against the organisation (out of area,
closed, not eligible …) does not stop the offer; it travels in the candidate's reasons. Only what
would make the offer pointless refuses it: an unknown or inactive organisation, or one no alert
channel can reach (the attempt would alert nobody)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from contracts.hours import Hours
from directory.geography.domain import Area, Tier
from directory.matching.domain import Candidate, Listing, MatchPolicy, ReferralNeeds
from directory.matching.ranking import match
from directory.register.domain import ServiceStatus

OPERATOR_CHOICE = "operator_choice"


@dataclass(frozen=True)
class ReofferJudgement:
    """The chosen organisation as a one-candidate answer, or the codes why it cannot be offered."""

    candidate: Candidate | None
    refusals: tuple[str, ...] = ()


def judge_reoffer(
    organisation_id: uuid.UUID,
    listings: Sequence[Listing],
    needs: ReferralNeeds,
    *,
    area: Area,
    at: datetime,
    policy: MatchPolicy,
) -> ReofferJudgement:
    """`listings` are the organisation's own services (active or not)."""
    if not listings:
        return ReofferJudgement(None, ("unknown_organisation",))
    organisation = listings[0].organisation
    active = [each for each in listings if each.service.status is ServiceStatus.ACTIVE]
    if not organisation.active or not active:
        return ReofferJudgement(None, ("inactive",))
    if not organisation.reachable:
        return ReofferJudgement(
            None, tuple(f"unreachable:{c.value}" for c in organisation.channels_without_endpoint())
        )
    ranked = match(needs, active, area=area, at=at, policy=policy)
    if ranked.candidates:
        best = ranked.candidates[0]
        return ReofferJudgement(_chosen(best, (OPERATOR_CHOICE, *best.reasons)))
    # Excluded by the ranking: offered all the same, with what the ranking held against it.
    held = tuple(
        f"ranking_excluded:{e.code}" for e in ranked.excluded if e.organisation_id == organisation_id
    )
    listing = active[0]
    hours = Hours.of(listing.service.schedules, public_body=organisation.public_body)
    candidate = Candidate(
        organisation=organisation,
        service=listing.service,
        rank=1,
        tier=area.tier_of(listing.service.coverage) or Tier.NATIONAL,
        reasons=(OPERATOR_CHOICE, *held),
        open_state=hours.state_at(at),
        hours=hours,
        missing=frozenset(),
    )
    return ReofferJudgement(candidate)


def _chosen(candidate: Candidate, reasons: tuple[str, ...]) -> Candidate:
    return Candidate(
        organisation=candidate.organisation,
        service=candidate.service,
        rank=1,
        tier=candidate.tier,
        reasons=reasons,
        open_state=candidate.open_state,
        hours=candidate.hours,
        missing=candidate.missing,
    )
