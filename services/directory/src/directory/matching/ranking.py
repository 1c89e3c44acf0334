"""The rule that matches a referral to the register: `match`. Pure.

`match` is a plain function of (needs, listings, area, time, policy): the same inputs give the same
ranking in any input order, and every candidate and every exclusion carries the reasons an
operator needs to explain the choice. An organisation is a candidate through its best-fitting
service. services/directory/README.md "Matching" has the ranking as a table.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from contracts.hours import JST, Hours, HoursBasis, OpenState
from contracts.vocabulary import AgeBand, Gender
from directory.geography.domain import Area, Tier
from directory.matching.domain import (
    JAPANESE,
    MAX_CANDIDATES,
    Candidate,
    Excluded,
    Exclusion,
    Listing,
    MatchPolicy,
    MatchResult,
    Performance,
    ReferralNeeds,
)
from directory.register.domain import Capability, Eligibility, Service, ServiceStatus

_TIER_ORDER = {Tier.MUNICIPALITY: 0, Tier.CITY: 1, Tier.PREFECTURE: 2, Tier.NATIONAL: 3}
_EXCLUSION_ORDER = {reason: i for i, reason in enumerate(Exclusion)}
DEFAULT_POLICY = MatchPolicy()


@dataclass(frozen=True)
class _Assessment:
    listing: Listing
    tier: Tier | None
    exclusion: Excluded | None
    key: tuple[int | float | str, ...] = ()
    reasons: tuple[str, ...] = ()
    open_state: OpenState = field(default_factory=lambda: OpenState(open_now=None))
    hours: Hours = field(default_factory=lambda: Hours(()))
    missing: frozenset[Capability] = frozenset()


def _age_fit(eligibility: Eligibility, band: AgeBand) -> int | None:
    """0: the band lies inside the range; 1: it may (overlap or unknown band); None: it cannot."""
    low = eligibility.minimum_age if eligibility.minimum_age is not None else 0
    high = eligibility.maximum_age if eligibility.maximum_age is not None else 200
    bounds = band.bounds
    if bounds is None:
        return 1 if (eligibility.minimum_age is not None or eligibility.maximum_age is not None) else 0
    if bounds[1] < low or bounds[0] > high:
        return None
    return 0 if low <= bounds[0] and bounds[1] <= high else 1


def _jst(at: datetime) -> str:
    return at.astimezone(JST).isoformat(timespec="minutes")


def _language_fit(service: Service, language: str) -> int | None:
    """0: speaks it; 1: through interpreters (MULTILINGUAL); None: the person could not be understood."""
    if language in service.languages:
        return 0
    if language != JAPANESE and Capability.MULTILINGUAL in service.capabilities:
        return 1
    return None if language != JAPANESE else 1


def _hours_reasons(state: OpenState) -> list[str]:
    if state.basis is HoursBasis.UNKNOWN:
        return ["hours_unknown"]
    if state.round_the_clock:
        return ["open_24h"]
    found = ["hours_default:public_office"] if state.basis is HoursBasis.PUBLIC_OFFICE_DEFAULT else []
    if state.open_now:
        found.append(f"open_now_until:{_jst(state.open_until)}" if state.open_until else "open_now")
    else:
        found.append(
            f"queued_until:{_jst(state.next_opening)}" if state.next_opening else "no_upcoming_hours"
        )
    return found


def _assess(
    listing: Listing, needs: ReferralNeeds, area: Area, at: datetime, policy: MatchPolicy
) -> _Assessment:
    organisation, service = listing.organisation, listing.service

    def excluded(reason: Exclusion, detail: str | None = None, tier: Tier | None = None) -> _Assessment:
        return _Assessment(listing, tier, Excluded(organisation.id, reason, detail, service.id))

    if not organisation.active or service.status is not ServiceStatus.ACTIVE:
        return excluded(Exclusion.INACTIVE)
    if not organisation.reachable:
        return excluded(
            Exclusion.UNREACHABLE, ",".join(c.value for c in organisation.channels_without_endpoint())
        )
    tier = area.tier_of(service.coverage)
    if tier is None:
        return excluded(Exclusion.OUT_OF_AREA)
    if not service.handles(needs.topic):
        return excluded(Exclusion.TOPIC_NOT_HANDLED, tier=tier)
    # Hard eligibility: a service that would turn the person away is never offered the case.
    eligibility = service.eligibility
    age_fit = _age_fit(eligibility, needs.age_band)
    if age_fit is None:
        return excluded(Exclusion.NOT_ELIGIBLE, "age", tier)
    gender_fit = 0
    if eligibility.genders:
        if needs.gender is Gender.UNKNOWN:
            gender_fit = 1
        elif needs.gender not in eligibility.genders:
            return excluded(Exclusion.NOT_ELIGIBLE, "gender", tier)
    language_fit = _language_fit(service, needs.language)
    if language_fit is None:
        return excluded(Exclusion.NOT_ELIGIBLE, "language", tier)
    capacity = service.capacity
    fresh = capacity is not None and capacity.is_fresh(at, policy.capacity_stale_after)
    if capacity is not None and fresh and capacity.available <= 0:
        return excluded(Exclusion.NO_CAPACITY, f"{capacity.available}/{capacity.maximum or '-'}", tier)
    hours = Hours.of(service.schedules, public_body=organisation.public_body)
    state = hours.state_at(at)
    if state.closed and needs.needs_open_now:
        detail = f"until {_jst(state.next_opening)}" if state.next_opening else "no upcoming hours"
        return excluded(Exclusion.CLOSED, detail, tier)

    local = tier is not Tier.NATIONAL
    reasons = [
        {
            Tier.MUNICIPALITY: f"covers_municipality:{area.municipality_code}",
            Tier.CITY: f"covers_city:{area.city_code}",
            Tier.PREFECTURE: f"covers_prefecture:{area.prefecture_code}",
            Tier.NATIONAL: "national_coverage",
        }[tier],
        f"handles_topic:{needs.topic.value}" if service.topics else "handles_all_topics",
    ]
    required = needs.capabilities
    offered = service.capabilities
    if language_fit == 0 and needs.language != JAPANESE:
        offered = offered | {Capability.MULTILINGUAL}  # speaking the language is the capability
    missing = sorted(required - offered)
    reasons += [f"has_capability:{c}" for c in sorted(required & offered)]
    reasons += [f"lacks_capability:{c}" for c in missing]
    reasons += _hours_reasons(state)
    if capacity is None:
        reasons.append("capacity_unknown:not_reported")
    elif not fresh:
        reasons.append("capacity_unknown:stale")
    else:
        reasons.append(f"capacity_available:{capacity.available}/{capacity.maximum or '-'}")
    reasons.append(f"speaks:{needs.language}" if language_fit == 0 else f"interpreting:{needs.language}")
    if eligibility.restricted:
        reasons.append("eligibility_fits" if age_fit == 0 and gender_fit == 0 else "eligibility_may_fit")
    performance = listing.performance or Performance()
    reasons.append(
        f"ack_rate:{performance.ack_score:.2f}" if performance.ack_score is not None else "ack_rate:unknown"
    )

    # The ranking, in order (services/directory/README.md "Ranking" has it as a table): local
    # before national; then what the organisation can do for this case — fewest missing
    # capabilities, the person's language spoken rather than interpreted — before how close it
    # is, since a capable organisation one tier up beats an incapable one next door; for S3/S4,
    # known to be open now before hours unknown (known-closed ones are excluded); then the
    # tier; then for S2, open now before unknown before queued, queued by how soon; a service
    # aimed at the person before a general one; fresh capacity before unknown; a specialist for
    # the topic before a catch-all; better recent acknowledgement; then name and ids, so that
    # ties never depend on the order the database returned rows in.
    reach = 0 if state.open_now else (1 if state.open_now is None else 2)
    next_ts = state.next_opening.timestamp() if state.next_opening else 0.0
    eligibility_rank = (0 if age_fit == 0 and gender_fit == 0 else 2) if eligibility.restricted else 1
    key: tuple[int | float | str, ...] = (
        0 if local else 1,
        len(missing),
        language_fit,
        reach if needs.needs_open_now else 0,
        _TIER_ORDER[tier],
        0 if needs.needs_open_now else reach,
        next_ts,
        eligibility_rank,
        0 if fresh else 1,
        0 if needs.topic in service.topics else 1,
        performance.rank,
        organisation.name,
        organisation.id.int,
        service.id.int,
    )
    return _Assessment(listing, tier, None, key, tuple(reasons), state, hours, frozenset(missing))


def match(
    needs: ReferralNeeds,
    listings: Iterable[Listing],
    *,
    area: Area,
    at: datetime,
    policy: MatchPolicy = DEFAULT_POLICY,
) -> MatchResult:
    """Rank the organisations that can take the referral; explain every one that cannot."""
    best: dict[uuid.UUID, _Assessment] = {}
    furthest: dict[uuid.UUID, Excluded] = {}
    for listing in listings:
        assessment = _assess(listing, needs, area, at, policy)
        org_id = listing.organisation.id
        if assessment.exclusion is None:
            if org_id not in best or assessment.key < best[org_id].key:
                best[org_id] = assessment
            continue
        # An organisation none of whose services fits is explained by the service that came
        # closest (the latest check it failed), so "closed until 9:00" beats "out of area".
        found = assessment.exclusion
        known = furthest.get(org_id)
        if known is None or (_EXCLUSION_ORDER[found.reason], -_sid(found)) > (
            _EXCLUSION_ORDER[known.reason],
            -_sid(known),
        ):
            furthest[org_id] = found
    ranked = sorted(best.values(), key=lambda a: a.key)
    candidates = tuple(
        Candidate(
            a.listing.organisation,
            a.listing.service,
            rank,
            a.tier or Tier.NATIONAL,
            a.reasons,
            a.open_state,
            a.hours,
            a.missing,
        )
        for rank, a in enumerate(ranked[:MAX_CANDIDATES], start=1)
    )
    excluded = sorted(
        (e for org_id, e in furthest.items() if org_id not in best),
        key=lambda e: (e.organisation_id.int, e.reason.value),
    )
    return MatchResult(needs, candidates, tuple(excluded), len(ranked), at)


def _sid(excluded: Excluded) -> int:
    return excluded.service_id.int if excluded.service_id else 0
