"""The register after Open Referral HSDS 3.0: organisations, their services, offices and change log. Pure.

An organisation (HSDS organization) offers services; a service says where it takes cases
(coverage), for which topics, with what capabilities, to whom (eligibility), when (weekly
schedules, Japan time) and how many more (capacity). The registration rules live here: valid
coverage entries and 法人番号, and an alert channel must have its address. The change log is
`changelog.py`.
"""

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from contracts.hours import Weekday, WeeklyRule, format_clock, parse_clock
from contracts.municipality import register, validate_municipality_code
from contracts.vocabulary import Gender, Topic
from directory.geography.domain import NATIONAL
from eventkit.auth import Principal, Role
from eventkit.errors import ErrorDetail, Invalid


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
    phone: str | None = None  # the desk operators call (a public number, not a person's)

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


def may_see(principal: Principal, organisation_id: uuid.UUID) -> bool:
    """Staff see and change every organisation's entry; a partner only its own (any other is
    answered as not found, so that ids cannot be probed)."""
    return principal.role is not Role.PARTNER or principal.is_partner_of(organisation_id)


def validate_age_range(minimum_age: int | None, maximum_age: int | None) -> None:
    """The youngest age a service takes is not above the oldest."""
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        raise ValueError("minimum_age is above maximum_age")


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
class Verification:
    """When a person last confirmed an organisation's entry with the organisation, and who."""

    at: datetime
    by: str

    def later(self, other: "Verification | None") -> "Verification":
        return self if other is None or self.at >= other.at else other


def verification_stale(verified: Verification | None, *, now: datetime, stale_after: timedelta) -> bool:
    """An entry nobody has confirmed for `stale_after` (or ever) may no longer be true."""
    return verified is None or now - verified.at > stale_after


@dataclass(frozen=True)
class OrganisationRecord:
    """An organisation as registered, with its services and who changed it last and when."""

    organisation: Organisation
    services: tuple[Service, ...]
    created_at: datetime
    updated_at: datetime
    updated_by: str
    verified: Verification | None = None
    # Whether the entry needs confirming again, judged at the moment it was read (None: not judged).
    stale: bool | None = None

    def judged(self, *, now: datetime, stale_after: timedelta) -> "OrganisationRecord":
        return dataclasses.replace(
            self, stale=verification_stale(self.verified, now=now, stale_after=stale_after)
        )

    @property
    def main_service(self) -> Service | None:
        return next((s for s in self.services if s.id == self.organisation.id), None)

    @property
    def coverage(self) -> list[str]:
        """The main service's area, or every service's when it has no main service."""
        main = self.main_service
        if main is not None:
            return list(main.coverage)
        return list(dict.fromkeys(e for s in self.services for e in s.coverage))

    @property
    def topics(self) -> list[Topic]:
        """The main service's topics, or every service's (none: every topic, if one takes all)."""
        main = self.main_service
        if main is not None:
            return list(main.topics)
        if any(not s.topics for s in self.services):
            return []
        return list(dict.fromkeys(t for s in self.services for t in s.topics))


_ENDPOINT_FIELD = {Channel.WEBHOOK: "webhook_url", Channel.EMAIL: "email"}


def check_reachable(organisation: Organisation, *, prefix: str = "body") -> None:
    """An alert channel without its address would reach nobody and still spend one of the case's
    attempts: such a registration is refused, naming the missing address."""
    missing = organisation.channels_without_endpoint()
    if missing:
        raise Invalid(
            "The request is invalid.",
            details=[
                ErrorDetail(
                    field=f"{prefix}.{_ENDPOINT_FIELD[c]}",
                    reason=f"the {c.value} channel needs a {_ENDPOINT_FIELD[c]}: "
                    "without it an alert would reach nobody",
                )
                for c in missing
            ],
        )


def schedule_to_json(rule: WeeklyRule) -> dict[str, Any]:
    """A weekly rule as stored (and compared in the change log): HSDS schedule fields."""
    return {
        "freq": "WEEKLY",
        "byday": ",".join(d.value for d in Weekday if d in rule.days),
        "opens_at": format_clock(rule.opens),
        "closes_at": format_clock(rule.closes),
        "valid_from": rule.valid_from.isoformat() if rule.valid_from else None,
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else None,
        "description": rule.description,
    }


def schedule_from_json(data: dict[str, Any]) -> WeeklyRule:
    return WeeklyRule(
        days=frozenset(Weekday(d) for d in data["byday"].split(",")),
        opens=parse_clock(data["opens_at"]),
        closes=parse_clock(data["closes_at"]),
        valid_from=date.fromisoformat(data["valid_from"]) if data.get("valid_from") else None,
        valid_to=date.fromisoformat(data["valid_to"]) if data.get("valid_to") else None,
        description=data.get("description"),
    )
