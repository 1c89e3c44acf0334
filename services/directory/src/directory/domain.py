"""Organisations and the matching rule that picks one for a referral. Pure: no I/O.

`match` is deliberately a plain function of (needs, organisations): the same inputs give the same
ranking in any input order, and every candidate and every exclusion carries the reasons an
operator would need to explain the choice. Later rules (schedules, capacity, severity) grow here.
"""

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts import events
from contracts.municipality import prefecture_of, validate_municipality_code
from contracts.vocabulary import Severity, Topic

NATIONAL = "JP"
MAX_CANDIDATES = 10
# Why an organisation is not a candidate; one reason each, checked in this order.
INACTIVE = "inactive"
OUT_OF_AREA = "out_of_area"
TOPIC_NOT_HANDLED = "topic_not_handled"
EXCLUSION_REASONS = (INACTIVE, OUT_OF_AREA, TOPIC_NOT_HANDLED)


class OrgType(StrEnum):
    """Kinds of local support bodies a #9999 case is handed to."""

    SHAKYO = "SHAKYO"  # 社会福祉協議会
    JIRITSU = "JIRITSU"  # 自立相談支援機関 (生活困窮者自立支援)
    WELFARE_OFFICE = "WELFARE_OFFICE"  # 福祉事務所
    HOUKATSU = "HOUKATSU"  # 地域包括支援センター
    MHWC = "MHWC"  # 精神保健福祉センター
    HOKENJO = "HOKENJO"  # 保健所
    HIKIKOMORI = "HIKIKOMORI"  # ひきこもり地域支援センター
    SAPOSTE = "SAPOSTE"  # 地域若者サポートステーション
    DV_CENTER = "DV_CENTER"  # 配偶者暴力相談支援センター
    WOMEN_CENTER = "WOMEN_CENTER"  # 女性相談支援センター
    ONESTOP_SV = "ONESTOP_SV"  # 性犯罪・性暴力被害者のためのワンストップ支援センター
    CHILD_GUIDANCE = "CHILD_GUIDANCE"  # 児童相談所
    KODOMO_KATEI = "KODOMO_KATEI"  # こども家庭センター
    DISABILITY = "DISABILITY"  # 障害者相談支援事業所
    TEICHAKU = "TEICHAKU"  # 地域生活定着支援センター
    LEGAL = "LEGAL"  # 法テラス等
    HELLOWORK = "HELLOWORK"  # ハローワーク
    NPO = "NPO"  # NPO・民間団体


class Tier(StrEnum):
    """How closely an organisation's coverage fits the case's municipality; best first."""

    MUNICIPALITY = "municipality"
    PREFECTURE = "prefecture"
    NATIONAL = "national"


_TIER_ORDER = {Tier.MUNICIPALITY: 0, Tier.PREFECTURE: 1, Tier.NATIONAL: 2}


def validate_coverage_entry(entry: str) -> str:
    """A 6-digit municipality code (check digit included), a 2-digit prefecture code, or 'JP'."""
    if entry == NATIONAL:
        return entry
    if entry.isascii() and entry.isdigit():
        if len(entry) == 6:
            return validate_municipality_code(entry)
        if len(entry) == 2:
            if 1 <= int(entry) <= 47:
                return entry
            raise ValueError(f"{entry}: a prefecture code is between 01 and 47")
    # The entry itself is not echoed: it is not a code, so it could be any text at all.
    raise ValueError(
        "a coverage entry is a 6-digit municipality code, a 2-digit prefecture code (01–47) or 'JP'"
    )


def area_keys(municipality_code: str) -> tuple[str, str, str]:
    """The coverage entries that reach a municipality: itself, its prefecture, the whole country."""
    return (municipality_code, prefecture_of(municipality_code), NATIONAL)


@dataclass(frozen=True)
class Organisation:
    id: uuid.UUID
    name: str
    org_type: OrgType
    coverage: tuple[str, ...]
    topics: tuple[Topic, ...] = ()  # empty: takes every topic
    webhook_url: str | None = None
    email: str | None = None
    active: bool = True

    def handles(self, topic: Topic) -> bool:
        return not self.topics or topic in self.topics

    def tier_for(self, municipality_code: str) -> Tier | None:
        """The best tier by which the coverage reaches the municipality, or None if it does not."""
        if municipality_code in self.coverage:
            return Tier.MUNICIPALITY
        if prefecture_of(municipality_code) in self.coverage:
            return Tier.PREFECTURE
        if NATIONAL in self.coverage:
            return Tier.NATIONAL
        return None


@dataclass(frozen=True)
class OrganisationRecord:
    """An organisation as registered, with who changed it last and when."""

    organisation: Organisation
    created_at: datetime
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class ReferralNeeds:
    topic: Topic
    municipality_code: str
    # Carried for the rules to come; the backbone ranks every severity the same way.
    severity: Severity


@dataclass(frozen=True)
class Candidate:
    organisation: Organisation
    rank: int
    tier: Tier
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Excluded:
    organisation_id: uuid.UUID
    reason: str


@dataclass(frozen=True)
class MatchResult:
    needs: ReferralNeeds
    candidates: tuple[Candidate, ...]
    excluded: tuple[Excluded, ...]
    # Eligible organisations, of which at most MAX_CANDIDATES are carried as candidates.
    eligible_count: int

    @property
    def chosen(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def unmatched_reasons(self) -> tuple[str, ...]:
        """Why nobody was chosen, as codes: what was searched and how many fell out for what."""
        counts = Counter(e.reason for e in self.excluded)
        searched = (
            f"searched_municipality:{self.needs.municipality_code}",
            f"searched_topic:{self.needs.topic.value}",
        )
        if not self.excluded:
            return ("no_active_organisation_covers_area", *searched)
        excluded = tuple(f"{reason}:{counts[reason]}" for reason in EXCLUSION_REASONS if counts[reason])
        return ("no_eligible_organisation", *searched, *excluded)


def _exclusion(organisation: Organisation, needs: ReferralNeeds, tier: Tier | None) -> str | None:
    if not organisation.active:
        return INACTIVE
    if tier is None:
        return OUT_OF_AREA
    if not organisation.handles(needs.topic):
        return TOPIC_NOT_HANDLED
    return None


def _reasons(organisation: Organisation, needs: ReferralNeeds, tier: Tier) -> tuple[str, ...]:
    code = needs.municipality_code
    area = {
        Tier.MUNICIPALITY: f"covers_municipality:{code}",
        Tier.PREFECTURE: f"covers_prefecture:{prefecture_of(code)}",
        Tier.NATIONAL: "national_coverage",
    }[tier]
    topic = f"handles_topic:{needs.topic.value}" if organisation.topics else "handles_all_topics"
    return (area, topic)


def _rank_key(organisation: Organisation, tier: Tier, needs: ReferralNeeds) -> tuple[int, int, str, int]:
    # Closest coverage first; then a specialist (lists the topic) before a catch-all; then the
    # name and the id, so that ties never depend on the order the database returned rows in.
    specialist = 0 if needs.topic in organisation.topics else 1
    return (_TIER_ORDER[tier], specialist, organisation.name, organisation.id.int)


def match(needs: ReferralNeeds, organisations: Iterable[Organisation]) -> MatchResult:
    """Rank the organisations that can take the referral; explain every one that cannot."""
    eligible: list[tuple[Organisation, Tier]] = []
    excluded: list[Excluded] = []
    for organisation in organisations:
        tier = organisation.tier_for(needs.municipality_code)
        reason = _exclusion(organisation, needs, tier)
        if reason is not None:
            excluded.append(Excluded(organisation.id, reason))
        else:
            assert tier is not None
            eligible.append((organisation, tier))
    eligible.sort(key=lambda pair: _rank_key(pair[0], pair[1], needs))
    candidates = tuple(
        Candidate(organisation, rank, tier, _reasons(organisation, needs, tier))
        for rank, (organisation, tier) in enumerate(eligible[:MAX_CANDIDATES], start=1)
    )
    excluded.sort(key=lambda e: (e.organisation_id.int, e.reason))
    return MatchResult(needs, candidates, tuple(excluded), len(eligible))


def outcome_event(
    request: events.ReferralRequested, result: MatchResult, *, at: datetime
) -> events.ReferralMatched | events.ReferralUnmatched:
    """The directory's answer to a referral request: ids, codes and the organisation's public name."""
    chosen = result.chosen
    if chosen is None:
        return events.ReferralUnmatched(
            case_id=request.case_id,
            referral_id=request.referral_id,
            reasons=result.unmatched_reasons(),
            unmatched_at=at,
        )
    organisation = chosen.organisation
    return events.ReferralMatched(
        case_id=request.case_id,
        referral_id=request.referral_id,
        organisation=events.MatchedOrganisation(
            organisation_id=organisation.id,
            name=organisation.name,
            webhook_url=organisation.webhook_url,
        ),
        reasons=chosen.reasons,
        candidates=tuple(
            events.Candidate(
                organisation_id=c.organisation.id, rank=c.rank, tier=c.tier.value, reasons=c.reasons
            )
            for c in result.candidates
        ),
        topic=request.topic,
        municipality_code=request.municipality_code,
        severity=request.severity,
        matched_at=at,
    )
