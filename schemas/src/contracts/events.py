"""The events: frozen, versioned, past-tense facts. Each carries ids and codes, never personal data.

Consumers ignore unknown fields so that a producer may add optional fields without a new version.
What a consumer relies on is *required*: a default would let a producer that forgets the field
pass every test. Making a field required, removing or retyping one is a new `.vN` type on the
same topic (so one case's facts stay in order); the old type stays readable: it is `Superseded`,
and the consumer turns it into the current type with `upcast()` before any handler sees it.
Producers write the current type only.
"""

from typing import ClassVar, Protocol, runtime_checkable
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts import topics
from contracts.hours import OpeningHours
from contracts.municipality import MunicipalityCode
from contracts.vocabulary import (
    AgeBand,
    AlertKind,
    Channel,
    DeclineReason,
    Gender,
    HandledElsewhereReason,
    IssueTag,
    LawfulBasis,
    OutcomeCode,
    OutcomeStage,
    Severity,
    Topic,
)


class Event(BaseModel):
    """Base of every event: the payload (CloudEvents `data`); the envelope travels in headers."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    SOURCE: ClassVar[str]

    case_id: UUID = Field(description="The case this fact belongs to; also the Kafka message key.")

    def partition_key(self) -> str:
        return str(self.case_id)


@runtime_checkable
class Superseded(Protocol):
    """An old version of an event: still read, never written; `upcast` gives the current one."""

    def upcast(self) -> Event: ...


LanguageCode = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code of the person's language.")


# The bases below give one producer's events their topic, source and leading ids once. A base holds
# only the fields every subclass starts with: field order is the order of the committed schemas.


class ReferralEvent(Event):
    """Base of the referral service's facts about one referral, on the referrals topic."""

    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID


class AttemptEvent(ReferralEvent):
    """Base of what became of one handoff attempt at its organisation."""

    attempt: int = Field(ge=1)
    organisation_id: UUID


class DirectoryAnswer(Event):
    """Base of the directory's answers about a referral, on the matches topic."""

    TOPIC = topics.MATCHES.name
    SOURCE = "/tsunagu/directory"

    referral_id: UUID


class DeliveryReport(Event):
    """Base of notify's reports on alerting one organisation, on the deliveries topic."""

    TOPIC = topics.DELIVERIES.name
    SOURCE = "/tsunagu/notify"

    referral_id: UUID
    organisation_id: UUID


class _ConsultationFields(Event):
    """What every version of `consultation.recorded` carries alike (a new version is a new class)."""

    TOPIC = topics.CONSULTATIONS.name
    SOURCE = "/tsunagu/intake"

    channel: Channel
    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity


class ConsultationRecorded(_ConsultationFields):
    """A counsellor recorded a consultation. Contact details and the summary stay in intake.

    v2: the needs, age band, gender and language are required (v1 let them default)."""

    TYPE = "consultation.recorded.v2"

    lawful_basis: LawfulBasis | None = Field(
        description="Why the case may be shared with a partner; null means it may not."
    )
    recorded_at: AwareDatetime
    need_tags: tuple[IssueTag, ...] = Field(description="What the person needs (may be empty).")
    age_band: AgeBand
    gender: Gender
    language: str = LanguageCode


class ConsultationRecordedV1(_ConsultationFields):
    """A counsellor recorded a consultation (v1, superseded by v2: read, never written)."""

    TYPE = "consultation.recorded.v1"

    lawful_basis: LawfulBasis | None = None
    recorded_at: AwareDatetime
    need_tags: tuple[IssueTag, ...] = ()
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: str = "ja"

    def upcast(self) -> ConsultationRecorded:
        return ConsultationRecorded.model_validate(self.model_dump())


class _RequestFields(ReferralEvent):
    """What every version of `referral.requested` carries alike (a new version is a new class)."""

    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity
    lawful_basis: LawfulBasis
    requested_at: AwareDatetime


class ReferralRequested(_RequestFields):
    """A serious case needs a local organisation: the referral service asks for a match.

    v2: everything the directory ranks on is required — need codes, age band, gender, language —
    so that the real match decides with what the dry run decides with."""

    TYPE = "referral.requested.v2"

    need_tags: tuple[IssueTag, ...] = Field(description="What the person needs (may be empty).")
    age_band: AgeBand
    gender: Gender
    language: str = LanguageCode


class ReferralRequestedV1(_RequestFields):
    """v1 of the request (superseded: it let the needs default, and referral never filled them)."""

    TYPE = "referral.requested.v1"

    need_tags: tuple[IssueTag, ...] = ()
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: str = "ja"

    def upcast(self) -> ReferralRequested:
        return ReferralRequested.model_validate(self.model_dump())


class MatchedOrganisation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    organisation_id: UUID
    name: str = Field(description="The organisation's public name (not personal data).")
    webhook_url: str | None = Field(default=None, description="Where the partner takes handoffs.")


class Candidate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    organisation_id: UUID
    rank: int = Field(ge=1)
    tier: str = Field(description="municipality | city | prefecture | national")
    reasons: tuple[str, ...]
    name: str | None = Field(default=None, description="The organisation's public name.")
    webhook_url: str | None = None
    email: str | None = Field(default=None, description="The organisation's alert address.")
    channels: tuple[str, ...] = Field(
        default=("webhook",), description="How it wants alerts: webhook, email, portal."
    )
    open_now: bool | None = Field(default=None, description="null: its hours are unknown.")
    next_opening: AwareDatetime | None = Field(
        default=None, description="When a closed organisation opens next (Japan time aware)."
    )
    hours: OpeningHours | None = Field(
        default=None,
        description="The hours matching went by; an S2 deadline counts the organisation's open time "
        "through them. Null only from a directory older than this field.",
    )


class ReferralMatched(DirectoryAnswer):
    """The directory chose an organisation; the ranked candidates let a handoff move on later."""

    TYPE = "referral.matched.v1"

    organisation: MatchedOrganisation
    reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity
    matched_at: AwareDatetime
    fallback: bool = Field(default=False, description="No local match: national organisations.")


class ReferralUnmatched(DirectoryAnswer):
    """No organisation can take the referral; operators must act."""

    TYPE = "referral.unmatched.v1"

    reasons: tuple[str, ...]
    unmatched_at: AwareDatetime


class HandoffNotified(DeliveryReport):
    """A partner organisation acknowledged receipt of the handoff alert at transport level."""

    TYPE = "handoff.notified.v1"

    attempt: int = Field(ge=1, description="Which handoff attempt of the referral this alert is.")
    delivery_id: str = Field(description="Idempotency key the partner sees: referral:org:attempt.")
    channel: str = "webhook"
    notified_at: AwareDatetime


class HandoffDeliveryFailed(DeliveryReport):
    """Alerting the partner failed for good after bounded retries."""

    TYPE = "handoff.delivery_failed.v1"

    attempt: int = Field(ge=1)
    delivery_id: str
    reason: str = Field(description="Machine-readable cause, e.g. http_503, no_signing_secret.")
    failed_at: AwareDatetime


class OfferedOrganisation(BaseModel):
    """Where and how a handoff attempt is to be alerted: the organisation's own channels."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    organisation_id: UUID
    name: str | None = None
    webhook_url: str | None = None
    email: str | None = None
    channels: tuple[str, ...] = ("webhook",)


class _OfferFields(ReferralEvent):
    """What every version of `handoff.offered` carries alike (a new version is a new class)."""

    attempt: int = Field(ge=1)
    organisation: OfferedOrganisation
    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity
    deadline_at: AwareDatetime
    offered_at: AwareDatetime


class HandoffOffered(_OfferFields):
    """The referral offers the case to one organisation (an attempt) until a deadline.

    v2: the need codes, age band and language travel with the offer, so that the partner's alert
    says what the case needs (codes only: never a name, a phone number or the consultation)."""

    TYPE = "handoff.offered.v2"

    need_tags: tuple[IssueTag, ...] = Field(description="What the person needs (may be empty).")
    age_band: AgeBand
    language: str = LanguageCode


class HandoffOfferedV1(_OfferFields):
    """v1 of the offer (superseded: it carried no needs, so a partner accepted blind)."""

    TYPE = "handoff.offered.v1"

    def upcast(self) -> HandoffOffered:
        # What v1 offers meant: nothing known of the needs, a Japanese-speaking person.
        return HandoffOffered.model_validate(
            self.model_dump() | {"need_tags": (), "age_band": AgeBand.UNKNOWN, "language": "ja"}
        )


class HandoffAcknowledged(AttemptEvent):
    """The organisation accepted the handoff attempt; the outcome track starts."""

    TYPE = "handoff.acknowledged.v1"

    via: str = Field(description="link | api | portal")
    acknowledged_at: AwareDatetime


class HandoffDeclined(AttemptEvent):
    """The organisation declined the attempt with a reason code; the next candidate is offered."""

    TYPE = "handoff.declined.v1"

    reason: DeclineReason
    declined_at: AwareDatetime


class HandoffExpired(AttemptEvent):
    """Nobody acknowledged the attempt before its deadline."""

    TYPE = "handoff.expired.v1"

    deadline_at: AwareDatetime
    expired_at: AwareDatetime


class ReferralEscalated(ReferralEvent):
    """The handoff moved on to the next ranked candidate."""

    TYPE = "referral.escalated.v1"

    from_attempt: int = Field(ge=1)
    to_attempt: int = Field(ge=2)
    from_organisation_id: UUID
    to_organisation_id: UUID
    cause: str = Field(description="declined | expired | delivery_failed")
    escalated_at: AwareDatetime


class ReferralExhausted(ReferralEvent):
    """Every candidate declined, expired or could not be alerted: operators must act."""

    TYPE = "referral.exhausted.v1"

    attempts: int = Field(ge=0)
    exhausted_at: AwareDatetime


class HandoffOutcomeRecorded(ReferralEvent):
    """The accepting organisation recorded 面談, 同行支援 or the case's closing outcome."""

    TYPE = "handoff.outcome_recorded.v1"

    organisation_id: UUID
    stage: OutcomeStage
    outcome: OutcomeCode | None = None
    accompanied_to: str | None = Field(
        default=None, description="hospital | police | welfare_office | other (a code, not text)"
    )
    recorded_at: AwareDatetime


class ReferralWithdrawn(ReferralEvent):
    """The counsellor withdrew the referral; open offers end."""

    TYPE = "referral.withdrawn.v1"

    reason: str = Field(description="A code: resolved_on_call | duplicate | person_request | other")
    withdrawn_at: AwareDatetime


class ReofferRequested(ReferralEvent):
    """An operator chose an organisation for a referral nobody took (unmatched or exhausted): before
    offering it the case as the next attempt, referral asks the directory for that organisation's
    current channels and hours. The operator's name stays in referral's timeline."""

    TYPE = "referral.reoffer_requested.v1"

    request_id: UUID = Field(description="The operator's request; the directory's answer names it.")
    organisation_id: UUID = Field(description="The organisation the operator chose.")
    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity
    need_tags: tuple[IssueTag, ...] = Field(description="What the person needs (may be empty).")
    age_band: AgeBand
    gender: Gender
    language: str = LanguageCode
    requested_at: AwareDatetime


class ReofferMatched(DirectoryAnswer):
    """The directory's answer to an operator's choice: the organisation as a one-candidate match,
    with its current channels and the hours its deadline counts through. What the ranking would
    have held against it (out of area, closed …) is in its reasons: the operator has decided."""

    TYPE = "referral.reoffer_matched.v1"

    request_id: UUID
    organisation: Candidate = Field(description="The chosen organisation, as a candidate.")
    matched_at: AwareDatetime


class ReofferUnmatched(DirectoryAnswer):
    """The organisation an operator chose cannot be offered the case: unknown, inactive, or an alert
    would reach nobody (`unreachable:webhook`). Nothing is offered; the operator chooses again."""

    TYPE = "referral.reoffer_unmatched.v1"

    request_id: UUID
    organisation_id: UUID
    reasons: tuple[str, ...] = Field(
        description="Codes: unknown_organisation, inactive, unreachable:<channel>."
    )
    unmatched_at: AwareDatetime


class ReferralHandledElsewhere(ReferralEvent):
    """An operator recorded that a referral nobody took was handled another way: the handoff ends.
    A reason code only; the operator's note stays in referral's database."""

    TYPE = "referral.handled_elsewhere.v1"

    reason: HandledElsewhereReason
    handled_at: AwareDatetime


class OperatorAlertRaised(Event):
    """Something needs a person now: about a case (no match, exhausted, an S4 nobody accepted in time),
    or a record a consumer dead-lettered (`dead_lettered`: the case id is the record's key where it
    was one, and `detail` names the dead-letter topic).

    notify pages the on-call operator for those that need a person (`no_match` and
    `referral_exhausted` of S3/S4, `s4_unacknowledged`, `dead_lettered`), once per referral (or per
    dead-letter topic) until acknowledged."""

    TYPE = "operator.alert_raised.v1"
    TOPIC = topics.OPS_ALERTS.name
    SOURCE = "/tsunagu"

    alert_id: UUID
    kind: AlertKind
    referral_id: UUID | None = None
    severity: Severity | None = None
    raised_by: str = Field(description="The service that raised it.")
    detail: tuple[str, ...] = Field(default=(), description="Codes explaining the alert.")
    raised_at: AwareDatetime


ALL_EVENTS: tuple[type[Event], ...] = (
    ConsultationRecorded,
    ConsultationRecordedV1,
    ReferralRequested,
    ReferralRequestedV1,
    ReferralMatched,
    ReferralUnmatched,
    HandoffNotified,
    HandoffDeliveryFailed,
    HandoffOffered,
    HandoffOfferedV1,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    ReferralEscalated,
    ReferralExhausted,
    HandoffOutcomeRecorded,
    ReferralWithdrawn,
    ReofferRequested,
    ReofferMatched,
    ReofferUnmatched,
    ReferralHandledElsewhere,
    OperatorAlertRaised,
)

EVENT_TYPES: dict[str, type[Event]] = {event.TYPE: event for event in ALL_EVENTS}


def events_on(topic: str) -> tuple[type[Event], ...]:
    return tuple(event for event in ALL_EVENTS if topic == event.TOPIC)


# Each superseded version, and the version its `upcast` returns.
SUPERSEDED_BY: dict[type[Event], type[Event]] = {
    ConsultationRecordedV1: ConsultationRecorded,
    ReferralRequestedV1: ReferralRequested,
    HandoffOfferedV1: HandoffOffered,
}


def current_type(event: type[Event]) -> type[Event]:
    """The type a record of `event` is handled as: itself, or the version that superseded it."""
    return SUPERSEDED_BY.get(event, event)


__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "SUPERSEDED_BY",
    "AttemptEvent",
    "Candidate",
    "ConsultationRecorded",
    "ConsultationRecordedV1",
    "DeliveryReport",
    "DirectoryAnswer",
    "Event",
    "HandoffAcknowledged",
    "HandoffDeclined",
    "HandoffDeliveryFailed",
    "HandoffExpired",
    "HandoffNotified",
    "HandoffOffered",
    "HandoffOfferedV1",
    "HandoffOutcomeRecorded",
    "MatchedOrganisation",
    "OfferedOrganisation",
    "OperatorAlertRaised",
    "ReferralEscalated",
    "ReferralEvent",
    "ReferralExhausted",
    "ReferralHandledElsewhere",
    "ReferralMatched",
    "ReferralRequested",
    "ReferralRequestedV1",
    "ReferralUnmatched",
    "ReferralWithdrawn",
    "ReofferMatched",
    "ReofferRequested",
    "ReofferUnmatched",
    "Superseded",
    "current_type",
    "events_on",
]
