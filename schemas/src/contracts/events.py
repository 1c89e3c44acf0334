"""The events: frozen, versioned, past-tense facts. Each carries ids and codes, never personal data.

Consumers ignore unknown fields so that a producer may add optional fields without a new version;
anything else (a removed or retyped field) is a new `.vN` type on a new topic.
"""

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts import topics
from contracts.municipality import MunicipalityCode
from contracts.vocabulary import (
    AgeBand,
    AlertKind,
    Channel,
    DeclineReason,
    Gender,
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


class ConsultationRecorded(Event):
    """A counsellor recorded a consultation. Contact details and the summary stay in intake."""

    TYPE = "consultation.recorded.v1"
    TOPIC = topics.CONSULTATIONS.name
    SOURCE = "/tsunagu/intake"

    channel: Channel
    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity
    lawful_basis: LawfulBasis | None = Field(
        default=None, description="Why the case may be shared with a partner; none means it may not."
    )
    recorded_at: AwareDatetime
    need_tags: tuple[IssueTag, ...] = Field(default=(), description="What the person needs.")
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: str = Field(default="ja", description="ISO 639-1 code of the person's language.")


class ReferralRequested(Event):
    """A serious case needs a local organisation: the referral service asks for a match."""

    TYPE = "referral.requested.v1"
    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID
    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity
    lawful_basis: LawfulBasis
    requested_at: AwareDatetime
    need_tags: tuple[IssueTag, ...] = ()
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: str = "ja"


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
    open_now: bool | None = None
    next_opening: AwareDatetime | None = Field(
        default=None, description="When a closed organisation opens next (Japan time aware)."
    )


class ReferralMatched(Event):
    """The directory chose an organisation; the ranked candidates let a handoff move on later."""

    TYPE = "referral.matched.v1"
    TOPIC = topics.MATCHES.name
    SOURCE = "/tsunagu/directory"

    referral_id: UUID
    organisation: MatchedOrganisation
    reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity
    matched_at: AwareDatetime
    fallback: bool = Field(default=False, description="No local match: national organisations.")


class ReferralUnmatched(Event):
    """No organisation can take the referral; operators must act."""

    TYPE = "referral.unmatched.v1"
    TOPIC = topics.MATCHES.name
    SOURCE = "/tsunagu/directory"

    referral_id: UUID
    reasons: tuple[str, ...]
    unmatched_at: AwareDatetime


class HandoffNotified(Event):
    """A partner organisation acknowledged receipt of the handoff alert at transport level."""

    TYPE = "handoff.notified.v1"
    TOPIC = topics.DELIVERIES.name
    SOURCE = "/tsunagu/notify"

    referral_id: UUID
    organisation_id: UUID
    attempt: int = Field(ge=1, description="Which handoff attempt of the referral this alert is.")
    delivery_id: str = Field(description="Idempotency key the partner sees: referral:org:attempt.")
    channel: str = "webhook"
    notified_at: AwareDatetime


class HandoffDeliveryFailed(Event):
    """Alerting the partner failed for good after bounded retries."""

    TYPE = "handoff.delivery_failed.v1"
    TOPIC = topics.DELIVERIES.name
    SOURCE = "/tsunagu/notify"

    referral_id: UUID
    organisation_id: UUID
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


class HandoffOffered(Event):
    """The referral offers the case to one organisation (an attempt) until a deadline."""

    TYPE = "handoff.offered.v1"
    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID
    attempt: int = Field(ge=1)
    organisation: OfferedOrganisation
    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity
    deadline_at: AwareDatetime
    offered_at: AwareDatetime


class HandoffAcknowledged(Event):
    """The organisation accepted the handoff attempt; the outcome track starts."""

    TYPE = "handoff.acknowledged.v1"
    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID
    attempt: int = Field(ge=1)
    organisation_id: UUID
    via: str = Field(description="link | api | portal")
    acknowledged_at: AwareDatetime


class HandoffDeclined(Event):
    """The organisation declined the attempt with a reason code; the next candidate is offered."""

    TYPE = "handoff.declined.v1"
    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID
    attempt: int = Field(ge=1)
    organisation_id: UUID
    reason: DeclineReason
    declined_at: AwareDatetime


class HandoffExpired(Event):
    """Nobody acknowledged the attempt before its deadline."""

    TYPE = "handoff.expired.v1"
    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID
    attempt: int = Field(ge=1)
    organisation_id: UUID
    deadline_at: AwareDatetime
    expired_at: AwareDatetime


class ReferralEscalated(Event):
    """The handoff moved on to the next ranked candidate."""

    TYPE = "referral.escalated.v1"
    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID
    from_attempt: int = Field(ge=1)
    to_attempt: int = Field(ge=2)
    from_organisation_id: UUID
    to_organisation_id: UUID
    cause: str = Field(description="declined | expired | delivery_failed")
    escalated_at: AwareDatetime


class ReferralExhausted(Event):
    """Every candidate declined, expired or could not be alerted: operators must act."""

    TYPE = "referral.exhausted.v1"
    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID
    attempts: int = Field(ge=0)
    exhausted_at: AwareDatetime


class HandoffOutcomeRecorded(Event):
    """The accepting organisation recorded 面談, 同行支援 or the case's closing outcome."""

    TYPE = "handoff.outcome_recorded.v1"
    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID
    organisation_id: UUID
    stage: OutcomeStage
    outcome: OutcomeCode | None = None
    accompanied_to: str | None = Field(
        default=None, description="hospital | police | welfare_office | other (a code, not text)"
    )
    recorded_at: AwareDatetime


class ReferralWithdrawn(Event):
    """The counsellor withdrew the referral; open offers end."""

    TYPE = "referral.withdrawn.v1"
    TOPIC = topics.REFERRALS.name
    SOURCE = "/tsunagu/referral"

    referral_id: UUID
    reason: str = Field(description="A code: resolved_on_call | duplicate | person_request | other")
    withdrawn_at: AwareDatetime


class OperatorAlertRaised(Event):
    """Something about a case needs a person now (no local match, exhausted, undeliverable)."""

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
    ReferralRequested,
    ReferralMatched,
    ReferralUnmatched,
    HandoffNotified,
    HandoffDeliveryFailed,
    HandoffOffered,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    ReferralEscalated,
    ReferralExhausted,
    HandoffOutcomeRecorded,
    ReferralWithdrawn,
    OperatorAlertRaised,
)

EVENT_TYPES: dict[str, type[Event]] = {event.TYPE: event for event in ALL_EVENTS}


def events_on(topic: str) -> tuple[type[Event], ...]:
    return tuple(event for event in ALL_EVENTS if topic == event.TOPIC)


__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "Candidate",
    "ConsultationRecorded",
    "Event",
    "HandoffAcknowledged",
    "HandoffDeclined",
    "HandoffDeliveryFailed",
    "HandoffExpired",
    "HandoffNotified",
    "HandoffOffered",
    "HandoffOutcomeRecorded",
    "MatchedOrganisation",
    "OfferedOrganisation",
    "OperatorAlertRaised",
    "ReferralEscalated",
    "ReferralExhausted",
    "ReferralMatched",
    "ReferralRequested",
    "ReferralUnmatched",
    "ReferralWithdrawn",
    "events_on",
]
