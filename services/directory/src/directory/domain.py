"""The register after Open Referral HSDS 3.0, and the rule that matches a referral to it. Pure.

`match` is a plain function of (needs, listings, area, time, policy): the same inputs give the same
ranking in any input order, and every candidate and every exclusion carries the reasons an
operator needs to explain the choice. A listing is one HSDS service of one organisation; an
organisation is a candidate through its best-fitting service.
"""

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from contracts import events
from contracts.hours import JST, Hours, HoursBasis, OpeningHours, OpenState, WeeklyRule
from contracts.municipality import prefecture_of, register, validate_municipality_code
from contracts.vocabulary import AgeBand, AlertKind, Gender, IssueTag, Severity, Topic

NATIONAL = "JP"
MAX_CANDIDATES = 10
# Capacity reported longer ago than this is unknown, not available (see MatchPolicy).
DEFAULT_CAPACITY_STALE_AFTER = timedelta(hours=24)


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


# Administrative bodies: closed on national holidays and 12/29–1/3 (行政機関の休日), which is
# exactly when #9999 runs, so their non-24h handoffs queue until they reopen. 社協 and commissioned
# bodies (自立相談, 包括, サポステ …) vary and say so through their own schedules.
PUBLIC_BODY_TYPES = frozenset(
    {
        OrgType.WELFARE_OFFICE,
        OrgType.MHWC,
        OrgType.HOKENJO,
        OrgType.CHILD_GUIDANCE,
        OrgType.KODOMO_KATEI,
        OrgType.DV_CENTER,
        OrgType.WOMEN_CENTER,
        OrgType.HELLOWORK,
    }
)


class Capability(StrEnum):
    """What an organisation can do for the person (domain brief §2)."""

    INTERVIEW = "INTERVIEW"  # 面談
    ACCOMPANY = "ACCOMPANY"  # 同行支援
    OUTREACH = "OUTREACH"  # 訪問
    SHELTER = "SHELTER"  # 一時保護
    FOOD = "FOOD"  # 食料
    CASH = "CASH"  # 貸付・給付
    HOUSING = "HOUSING"  # 住まい
    JOB = "JOB"  # 就労
    MEDICAL_LINK = "MEDICAL_LINK"  # 医療につなぐ
    LEGAL = "LEGAL"  # 法律
    MULTILINGUAL = "MULTILINGUAL"  # 多言語


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


class Channel(StrEnum):
    """How an organisation wants to be alerted about a handoff."""

    WEBHOOK = "webhook"
    EMAIL = "email"
    PORTAL = "portal"


class ServiceStatus(StrEnum):
    """HSDS service.status."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily closed"


class Residency(StrEnum):
    """Who the service takes besides what its area says: residents only, or also commuters."""

    ANY = "any"
    RESIDENT = "resident"  # 在住
    RESIDENT_OR_COMMUTER = "resident_or_commuter"  # 在住・在勤・在学


class Tier(StrEnum):
    """How closely a service area fits the case's municipality; best first."""

    MUNICIPALITY = "municipality"
    CITY = "city"  # the designated city of the case's ward
    PREFECTURE = "prefecture"
    NATIONAL = "national"


_TIER_ORDER = {Tier.MUNICIPALITY: 0, Tier.CITY: 1, Tier.PREFECTURE: 2, Tier.NATIONAL: 3}


def validate_coverage_entry(entry: str) -> str:
    """A 6-digit municipality code (check digit included), a 2-digit prefecture code, or 'JP'."""
    if entry == NATIONAL:
        return entry
    if entry.isascii() and entry.isdigit():
        if len(entry) == 6:
            # A code nobody lives under (unknown, or abolished in a reorganisation) would cover no
            # case at all; the message names the successors of an abolished one.
            register().current(validate_municipality_code(entry))
            return entry
        if len(entry) == 2:
            if 1 <= int(entry) <= 47:
                return entry
            raise ValueError(f"{entry}: a prefecture code is between 01 and 47")
    # The entry itself is not echoed: it is not a code, so it could be any text at all.
    raise ValueError(
        "a coverage entry is a 6-digit municipality code, a 2-digit prefecture code (01–47) or 'JP'"
    )


def validate_corporate_number(number: str) -> str:
    """法人番号: 13 digits, the first a check digit over the other 12 (国税庁's formula)."""
    if len(number) != 13 or not number.isascii() or not number.isdigit():
        raise ValueError("a corporate number (法人番号) has exactly 13 digits")
    body = number[1:]
    # P_n counted from the rightmost digit; weight 1 for odd n, 2 for even n.
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(body), start=1))
    expected = 9 - total % 9
    if int(number[0]) != expected:
        raise ValueError(f"{number}: check digit (first digit) should be {expected}")
    return number


@dataclass(frozen=True)
class Area:
    """Where the person is, as the coverage entries that can reach them, closest first."""

    municipality_code: str
    city_code: str | None  # the designated city, when the municipality is one of its wards
    prefecture_code: str

    @classmethod
    def of(cls, municipality_code: str, city_code: str | None = None) -> "Area":
        return cls(municipality_code, city_code, prefecture_of(municipality_code))

    def keys(self) -> tuple[str, ...]:
        found = [self.municipality_code]
        if self.city_code:
            found.append(self.city_code)
        return (*found, self.prefecture_code, NATIONAL)

    def tier_of(self, coverage: Iterable[str]) -> Tier | None:
        """The best tier by which a coverage reaches this area, or None if it does not."""
        entries = set(coverage)
        if self.municipality_code in entries:
            return Tier.MUNICIPALITY
        if self.city_code and self.city_code in entries:
            return Tier.CITY
        if self.prefecture_code in entries:
            return Tier.PREFECTURE
        if NATIONAL in entries:
            return Tier.NATIONAL
        return None


def area_keys(municipality_code: str, city_code: str | None = None) -> tuple[str, ...]:
    """The coverage entries that reach a municipality: itself, its city, its prefecture, JP."""
    return Area.of(municipality_code, city_code).keys()


@dataclass(frozen=True)
class Organisation:
    """HSDS organization, with the handoff channels of this domain."""

    id: uuid.UUID
    name: str
    org_type: OrgType
    webhook_url: str | None = None
    email: str | None = None
    active: bool = True
    description: str | None = None
    alternate_name: str | None = None
    website: str | None = None
    corporate_number: str | None = None  # 法人番号, where known
    channels: tuple[Channel, ...] = ()  # empty: derived from the addresses given
    portal_url: str | None = None

    @property
    def public_body(self) -> bool:
        return self.org_type in PUBLIC_BODY_TYPES

    @property
    def alert_channels(self) -> tuple[Channel, ...]:
        if self.channels:
            return self.channels
        derived = []
        if self.webhook_url:
            derived.append(Channel.WEBHOOK)
        if self.email:
            derived.append(Channel.EMAIL)
        return tuple(derived) or (Channel.PORTAL,)

    def channels_without_endpoint(self) -> tuple[Channel, ...]:
        """Push channels it asked for but gave no address for: an alert there reaches nobody."""
        return tuple(
            c
            for c in self.alert_channels
            if (c is Channel.WEBHOOK and not self.webhook_url) or (c is Channel.EMAIL and not self.email)
        )

    @property
    def reachable(self) -> bool:
        """At least one of its channels can carry an alert (the portal always can)."""
        return len(self.channels_without_endpoint()) < len(self.alert_channels)


@dataclass(frozen=True)
class Eligibility:
    minimum_age: int | None = None
    maximum_age: int | None = None
    genders: frozenset[Gender] = frozenset()  # empty: anyone
    residency: Residency = Residency.ANY

    @property
    def restricted(self) -> bool:
        return self.minimum_age is not None or self.maximum_age is not None or bool(self.genders)


@dataclass(frozen=True)
class Capacity:
    """HSDS 3.1 service_capacity: how many more referrals the service can take now."""

    available: int
    maximum: int | None
    updated: datetime  # last change, by a report or by a handoff accepted or closed
    reported_at: datetime  # last report by the partner or an operator: staleness counts from here
    unit: str = "referrals"
    description: str | None = None

    def is_fresh(self, at: datetime, stale_after: timedelta) -> bool:
        return at - self.reported_at <= stale_after


@dataclass(frozen=True)
class Service:
    """HSDS service: what one organisation offers, where, to whom, when, and how much of it."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    coverage: tuple[str, ...]  # the service_area entries: municipality codes, prefectures, JP
    topics: tuple[Topic, ...] = ()  # empty: takes every topic
    capabilities: frozenset[Capability] = frozenset()
    languages: tuple[str, ...] = ("ja",)
    eligibility: Eligibility = field(default_factory=Eligibility)
    # Empty: hours not published, so unknown (a public body keeps a public office's instead).
    schedules: tuple[WeeklyRule, ...] = ()
    capacity: Capacity | None = None
    status: ServiceStatus = ServiceStatus.ACTIVE
    description: str | None = None

    def handles(self, topic: Topic) -> bool:
        return not self.topics or topic in self.topics


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


ACK_SCORE_WEIGHT = 0.2


def next_ack_score(previous: float | None, acknowledged: bool) -> float:
    outcome = 1.0 if acknowledged else 0.0
    return outcome if previous is None else (1 - ACK_SCORE_WEIGHT) * previous + ACK_SCORE_WEIGHT * outcome


def performance_after(
    previous: Performance | None, answer: str, *, ack_seconds: float | None = None
) -> Performance:
    """The record after an offer ended: acknowledged, declined (an answer, neutral) or expired."""
    p = previous or Performance()
    if answer == "acknowledged":
        mean = p.mean_ack_seconds
        if ack_seconds is not None:
            mean = (
                ack_seconds
                if mean is None
                else (1 - ACK_SCORE_WEIGHT) * mean + ACK_SCORE_WEIGHT * ack_seconds
            )
        return Performance(
            p.offered, p.acknowledged + 1, p.declined, p.expired, next_ack_score(p.ack_score, True), mean
        )
    if answer == "expired":
        return Performance(
            p.offered,
            p.acknowledged,
            p.declined,
            p.expired + 1,
            next_ack_score(p.ack_score, False),
            p.mean_ack_seconds,
        )
    return Performance(p.offered, p.acknowledged, p.declined + 1, p.expired, p.ack_score, p.mean_ack_seconds)


@dataclass(frozen=True)
class Listing:
    """One service as matching sees it: with its organisation and that organisation's record."""

    organisation: Organisation
    service: Service
    performance: Performance | None = None


@dataclass(frozen=True)
class Location:
    """HSDS location: an organisation's public office (never a person's address)."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str | None
    location_type: str
    municipality_code: str | None
    postal_code: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    service_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class Change:
    resource_id: uuid.UUID
    resource_type: str
    action: str
    field_name: str
    previous_value: str
    replacement_value: str
    updated_by: str
    at: datetime | None = None


@dataclass(frozen=True)
class OrganisationRecord:
    """An organisation as registered, with its services and who changed it last and when."""

    organisation: Organisation
    services: tuple[Service, ...]
    created_at: datetime
    updated_at: datetime
    updated_by: str

    @property
    def main_service(self) -> Service | None:
        return next((s for s in self.services if s.id == self.organisation.id), None)


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


_EXCLUSION_ORDER = {reason: i for i, reason in enumerate(Exclusion)}
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


# Japanese is what every organisation is assumed to speak; another language is a need.
JAPANESE = "ja"


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
    policy: MatchPolicy = MatchPolicy(),
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
    return MatchResult(needs, candidates, tuple(excluded), len(ranked))


def _sid(excluded: Excluded) -> int:
    return excluded.service_id.int if excluded.service_id else 0


def candidate_event(candidate: Candidate) -> events.Candidate:
    organisation = candidate.organisation
    state = candidate.open_state
    return events.Candidate(
        organisation_id=organisation.id,
        rank=candidate.rank,
        tier=candidate.tier.value,
        reasons=candidate.reasons,
        name=organisation.name,
        webhook_url=organisation.webhook_url,
        email=organisation.email,
        channels=tuple(c.value for c in organisation.alert_channels),
        open_now=state.open_now,
        next_opening=state.next_opening,
        hours=OpeningHours.of(candidate.hours),
    )


def alert_id(referral_id: uuid.UUID, kind: AlertKind) -> uuid.UUID:
    """One alert per referral and kind, whatever redelivers the request."""
    return uuid.uuid5(referral_id, f"directory:{kind.value}")


def outcome_events(
    request: events.ReferralRequested, result: MatchResult, *, at: datetime
) -> tuple[events.Event, ...]:
    """The directory's answer to a referral request, and the operator alert it calls for."""
    chosen = result.chosen
    if chosen is None:
        reasons = result.unmatched_reasons()
        return (
            events.ReferralUnmatched(
                case_id=request.case_id,
                referral_id=request.referral_id,
                reasons=reasons,
                unmatched_at=at,
            ),
            events.OperatorAlertRaised(
                case_id=request.case_id,
                alert_id=alert_id(request.referral_id, AlertKind.NO_MATCH),
                kind=AlertKind.NO_MATCH,
                referral_id=request.referral_id,
                severity=request.severity,
                raised_by="directory",
                detail=reasons,
                raised_at=at,
            ),
        )
    organisation = chosen.organisation
    matched = events.ReferralMatched(
        case_id=request.case_id,
        referral_id=request.referral_id,
        organisation=events.MatchedOrganisation(
            organisation_id=organisation.id,
            name=organisation.name,
            webhook_url=organisation.webhook_url,
        ),
        reasons=chosen.reasons,
        candidates=tuple(candidate_event(c) for c in result.candidates),
        topic=request.topic,
        municipality_code=request.municipality_code,
        severity=request.severity,
        matched_at=at,
        fallback=result.fallback,
    )
    if not result.fallback:
        return (matched,)
    local_exclusions = Counter(e.reason for e in result.excluded)
    detail = (
        f"searched_municipality:{request.municipality_code}",
        *(f"{reason.value}:{local_exclusions[reason]}" for reason in Exclusion if local_exclusions[reason]),
    )
    alert = events.OperatorAlertRaised(
        case_id=request.case_id,
        alert_id=alert_id(request.referral_id, AlertKind.NO_LOCAL_MATCH),
        kind=AlertKind.NO_LOCAL_MATCH,
        referral_id=request.referral_id,
        severity=request.severity,
        raised_by="directory",
        detail=detail,
        raised_at=at,
    )
    return (matched, alert)
