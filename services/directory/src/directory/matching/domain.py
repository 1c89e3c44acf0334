"""What a match ranks on and what it answers with: needs, listings, candidates, exclusions. Pure.

The ranking itself is `ranking.match`; the events it calls for are `answer.py`. A listing is one
HSDS service of one organisation, with that organisation's record of answering offers.
"""

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from contracts.hours import Hours, OpenState
from contracts.vocabulary import AgeBand, Gender, IssueTag, Severity, Topic
from directory.geography.domain import Tier
from directory.register.domain import Capability, Organisation, Service

MAX_CANDIDATES = 10
# Capacity reported longer ago than this is unknown, not available (see MatchPolicy).
DEFAULT_CAPACITY_STALE_AFTER = timedelta(hours=24)
# Japanese is what every organisation is assumed to speak; another language is a need.
JAPANESE = "ja"


# Issue tags → the capabilities that answer them. A referral needs the union over its tags.
TAG_CAPABILITIES: dict[IssueTag, frozenset[Capability]] = {
    IssueTag.ISO: frozenset({Capability.INTERVIEW}),
    IssueTag.MH: frozenset({Capability.INTERVIEW, Capability.MEDICAL_LINK}),
    IssueTag.SUI: frozenset({Capability.INTERVIEW, Capability.MEDICAL_LINK}),
    IssueTag.HLT: frozenset({Capability.MEDICAL_LINK}),
    IssueTag.FAM: frozenset({Capability.INTERVIEW}),
    IssueTag.REL: frozenset({Capability.INTERVIEW}),
    IssueTag.WRK: frozenset({Capability.JOB}),
    IssueTag.SCH: frozenset({Capability.INTERVIEW}),
    IssueTag.MON: frozenset({Capability.CASH}),
    IssueTag.HOU: frozenset({Capability.HOUSING}),
    IssueTag.FOOD: frozenset({Capability.FOOD}),
    IssueTag.DV: frozenset({Capability.SHELTER, Capability.ACCOMPANY}),
    IssueTag.CHILD: frozenset({Capability.INTERVIEW, Capability.OUTREACH}),
    IssueTag.HIK: frozenset({Capability.OUTREACH}),
    IssueTag.SOGI: frozenset({Capability.INTERVIEW}),
    IssueTag.FRN: frozenset({Capability.MULTILINGUAL}),
    IssueTag.DIS: frozenset({Capability.FOOD, Capability.HOUSING}),
    IssueTag.ELD: frozenset({Capability.OUTREACH}),
    IssueTag.LEG: frozenset({Capability.LEGAL}),
}
# The voice-menu topic says something too, for requests that carry no tags.
TOPIC_CAPABILITIES: dict[Topic, frozenset[Capability]] = {
    Topic.FOREIGN_LANG: frozenset({Capability.MULTILINGUAL}),
    Topic.POVERTY: frozenset({Capability.CASH}),
    Topic.WOMEN: frozenset({Capability.SHELTER}),
}
# A serious case is handed over for 面談 (domain brief §4: S3 = warm handoff for 面談/同行支援).
SERIOUS_CAPABILITIES = frozenset({Capability.INTERVIEW})


def required_capabilities(
    topic: Topic, need_tags: Iterable[IssueTag], severity: Severity
) -> frozenset[Capability]:
    needed: set[Capability] = set(TOPIC_CAPABILITIES.get(topic, ()))
    for tag in need_tags:
        needed |= TAG_CAPABILITIES[tag]
    if severity.is_serious:
        needed |= SERIOUS_CAPABILITIES
    return frozenset(needed)


@dataclass(frozen=True)
class Performance:
    """How an organisation answered its recent handoff offers."""

    offered: int = 0
    acknowledged: int = 0
    declined: int = 0
    expired: int = 0
    # Exponentially weighted: 1 for an acknowledged offer, 0 for an expired one; recent ones
    # count most, so an organisation that improves (or lapses) is seen within a few handoffs.
    ack_score: float | None = None
    mean_ack_seconds: float | None = None

    @property
    def rank(self) -> int:
        """0 reliable, 1 unknown or middling, 2 often lets offers expire."""
        if self.ack_score is None:
            return 1
        if self.ack_score >= 0.75:
            return 0
        return 1 if self.ack_score >= 0.4 else 2


@dataclass(frozen=True)
class Listing:
    """One service as matching sees it: with its organisation and that organisation's record."""

    organisation: Organisation
    service: Service
    performance: Performance | None = None


@dataclass(frozen=True)
class ReferralNeeds:
    """Everything a match ranks on. No defaults: the real match (from the referral's request) and
    the dry run (from the API) must each say every one, so that they cannot disagree unseen."""

    topic: Topic
    municipality_code: str
    severity: Severity
    need_tags: tuple[IssueTag, ...]
    age_band: AgeBand
    gender: Gender
    language: str

    @property
    def needs_open_now(self) -> bool:
        """An emergency or serious case cannot wait for an office to open; S2 and below can."""
        return self.severity.is_serious

    @property
    def capabilities(self) -> frozenset[Capability]:
        return required_capabilities(self.topic, self.need_tags, self.severity)


@dataclass(frozen=True)
class Referral:
    """A referral to answer: whose case, which referral, and everything it ranks on."""

    case_id: uuid.UUID
    referral_id: uuid.UUID
    needs: ReferralNeeds


@dataclass(frozen=True)
class MatchPolicy:
    capacity_stale_after: timedelta = DEFAULT_CAPACITY_STALE_AFTER


class Exclusion(StrEnum):
    """Why a service cannot take the referral; one per service, checked in this order."""

    INACTIVE = "inactive"
    UNREACHABLE = "unreachable"  # no channel can carry an alert: it would only spend an attempt
    OUT_OF_AREA = "out_of_area"
    TOPIC_NOT_HANDLED = "topic_not_handled"
    NOT_ELIGIBLE = "not_eligible"
    NO_CAPACITY = "no_capacity"
    CLOSED = "closed"


EXCLUSION_REASONS = tuple(e.value for e in Exclusion)


@dataclass(frozen=True)
class Excluded:
    organisation_id: uuid.UUID
    reason: Exclusion
    detail: str | None = None  # e.g. "age", "gender", "language", "0/5", the next opening time
    service_id: uuid.UUID | None = None

    @property
    def code(self) -> str:
        return f"{self.reason.value}:{self.detail}" if self.detail else self.reason.value


@dataclass(frozen=True)
class Candidate:
    organisation: Organisation
    service: Service
    rank: int
    tier: Tier
    reasons: tuple[str, ...]
    open_state: OpenState
    hours: Hours  # what "open now" was decided by; referral counts an S2 deadline through it
    missing: frozenset[Capability]  # what the case needs that it cannot do (empty: capable)

    @property
    def capable(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class MatchResult:
    needs: ReferralNeeds
    candidates: tuple[Candidate, ...]
    excluded: tuple[Excluded, ...]
    # Eligible organisations, of which at most MAX_CANDIDATES are carried as candidates.
    eligible_count: int
    at: datetime  # the moment it was ranked for (open now, capacity fresh)

    @property
    def chosen(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def fallback(self) -> bool:
        """Nobody local: every candidate is a national organisation."""
        return bool(self.candidates) and all(c.tier is Tier.NATIONAL for c in self.candidates)

    def unmatched_reasons(self) -> tuple[str, ...]:
        """Why nobody was chosen, as codes: what was searched and how many fell out for what."""
        counts = Counter(e.reason for e in self.excluded)
        searched = (
            f"searched_municipality:{self.needs.municipality_code}",
            f"searched_topic:{self.needs.topic.value}",
        )
        if not self.excluded:
            return ("no_active_organisation_covers_area", *searched)
        excluded = tuple(f"{reason.value}:{counts[reason]}" for reason in Exclusion if counts[reason])
        return ("no_eligible_organisation", *searched, *excluded)
