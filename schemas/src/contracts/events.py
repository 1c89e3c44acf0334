"""The events: frozen, versioned, past-tense facts. Each carries ids and codes, never personal data.

Consumers ignore unknown fields so that a producer may add optional fields without a new version;
anything else (a removed or retyped field) is a new `.vN` type on a new topic.
"""

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts import topics
from contracts.municipality import MunicipalityCode
from contracts.vocabulary import Channel, LawfulBasis, Severity, Topic


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


class MatchedOrganisation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    organisation_id: UUID
    name: str = Field(description="The organisation's public name (not personal data).")
    webhook_url: str | None = Field(default=None, description="Where the partner takes handoffs.")


class Candidate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    organisation_id: UUID
    rank: int = Field(ge=1)
    tier: str = Field(description="municipality | prefecture | national")
    reasons: tuple[str, ...]


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


ALL_EVENTS: tuple[type[Event], ...] = (
    ConsultationRecorded,
    ReferralRequested,
    ReferralMatched,
    ReferralUnmatched,
    HandoffNotified,
    HandoffDeliveryFailed,
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
    "HandoffDeliveryFailed",
    "HandoffNotified",
    "MatchedOrganisation",
    "ReferralMatched",
    "ReferralRequested",
    "ReferralUnmatched",
    "events_on",
]
