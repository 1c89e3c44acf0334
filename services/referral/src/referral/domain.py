"""Referrals and their lifecycle: states, the transitions table, and how a fact moves a referral. Pure."""

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Final

from contracts.events import Candidate, ConsultationRecorded, ReferralRequested
from contracts.vocabulary import LawfulBasis, Severity, Topic


class ReferralState(StrEnum):
    REQUESTED = "requested"  # opened; waiting for the directory's answer
    MATCHED = "matched"  # the directory chose an organisation
    UNMATCHED = "unmatched"  # no organisation can take it; operators must act
    NOTIFIED = "notified"  # the organisation's endpoint acknowledged the alert
    DELIVERY_FAILED = "delivery_failed"  # alerting the organisation failed for good


class Step(StrEnum):
    """What a fact does to a referral in a given state."""

    ADVANCE = "advance"  # the referral moves to the state the fact announces
    RECORD_ONLY = "record_only"  # a repeat, or an earlier step arriving late: timeline only


_A, _R = Step.ADVANCE, Step.RECORD_ONLY
_S = ReferralState

# Rows are the referral's state, columns the state a fact announces; a missing cell is illegal.
#
# Facts come over three topics (directory.matches.v1, notify.deliveries.v1, ...) and Kafka orders
# messages only within one partition of one topic, so a later step may be processed first: notify
# consumes the match itself and its HandoffNotified can overtake the ReferralMatched we read.
# Hence the rule: a fact that announces a step the referral has already passed (or the step it is
# in, again) is RECORD_ONLY — it goes into the timeline and may fill what the referral lacks
# (organisation, attempt, reasons, candidates) but never moves the state backwards. Skipping ahead
# (requested → notified) is an ADVANCE: the later fact implies the earlier one happened. Facts that
# contradict the state (unmatched after matched, notified after delivery_failed for the same
# attempt) are illegal and go to the dead-letter topic for a person to look at.
TRANSITIONS: Final[Mapping[ReferralState, Mapping[ReferralState, Step]]] = {
    _S.REQUESTED: {_S.MATCHED: _A, _S.UNMATCHED: _A, _S.NOTIFIED: _A, _S.DELIVERY_FAILED: _A},
    _S.MATCHED: {_S.MATCHED: _R, _S.NOTIFIED: _A, _S.DELIVERY_FAILED: _A},
    _S.UNMATCHED: {_S.UNMATCHED: _R},
    _S.NOTIFIED: {_S.MATCHED: _R, _S.NOTIFIED: _R},
    _S.DELIVERY_FAILED: {_S.MATCHED: _R, _S.DELIVERY_FAILED: _R},
}


class IllegalTransition(Exception):
    """The fact contradicts the referral's state; `reason` is a machine code, ids/codes only."""

    def __init__(self, current: ReferralState, announced: ReferralState, why: str = "") -> None:
        self.current = current
        self.announced = announced
        self.reason = f"illegal_transition:{current.value}->{announced.value}" + (f":{why}" if why else "")
        super().__init__(self.reason)


@dataclass(frozen=True)
class Referral:
    id: uuid.UUID
    case_id: uuid.UUID
    state: ReferralState
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis
    organisation_id: uuid.UUID | None
    attempt: int  # which handoff attempt the organisation is on; 0 until one is chosen
    reasons: tuple[str, ...]  # the directory's reasons for its match, or for finding none
    candidates: tuple[Candidate, ...]
    created_at: datetime
    updated_at: datetime

    def requested_event(self) -> ReferralRequested:
        return ReferralRequested(
            case_id=self.case_id,
            referral_id=self.id,
            topic=self.topic,
            municipality_code=self.municipality_code,
            severity=self.severity,
            lawful_basis=self.lawful_basis,
            requested_at=self.created_at,
        )


@dataclass(frozen=True)
class TimelineEntry:
    state: ReferralState
    at: datetime
    actor: str
    trace_id: str | None


# The facts other services report about a referral, translated from their events by handlers.py.
@dataclass(frozen=True)
class Matched:
    announces: ClassVar[ReferralState] = ReferralState.MATCHED
    organisation_id: uuid.UUID
    reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    at: datetime


@dataclass(frozen=True)
class Unmatched:
    announces: ClassVar[ReferralState] = ReferralState.UNMATCHED
    reasons: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class Notified:
    announces: ClassVar[ReferralState] = ReferralState.NOTIFIED
    organisation_id: uuid.UUID
    attempt: int
    at: datetime


@dataclass(frozen=True)
class DeliveryFailed:
    announces: ClassVar[ReferralState] = ReferralState.DELIVERY_FAILED
    organisation_id: uuid.UUID
    attempt: int
    reason: str
    at: datetime


Fact = Matched | Unmatched | Notified | DeliveryFailed

# A match starts the first attempt; later attempts come with escalation, which is not in the backbone.
FIRST_ATTEMPT: Final = 1


def should_open_referral(event: ConsultationRecorded) -> bool:
    """Only serious cases (S3, S4) with a lawful basis for sharing are handed off."""
    return event.severity.is_serious and event.lawful_basis is not None


def open_referral(event: ConsultationRecorded, *, referral_id: uuid.UUID, now: datetime) -> Referral:
    if event.lawful_basis is None:
        raise ValueError("a referral needs a lawful basis for sharing the case")
    return Referral(
        id=referral_id,
        case_id=event.case_id,
        state=ReferralState.REQUESTED,
        topic=event.topic,
        municipality_code=event.municipality_code,
        severity=event.severity,
        lawful_basis=event.lawful_basis,
        organisation_id=None,
        attempt=0,
        reasons=(),
        candidates=(),
        created_at=now,
        updated_at=now,
    )


def decide(referral: Referral, fact: Fact) -> Step:
    """The step `fact` is for `referral`, or IllegalTransition."""
    attempt = getattr(fact, "attempt", None)
    if attempt is not None and attempt < referral.attempt:
        # The outcome of an attempt the referral has moved past: history, whatever it says.
        return Step.RECORD_ONLY
    step = TRANSITIONS[referral.state].get(fact.announces)
    if step is None:
        raise IllegalTransition(referral.state, fact.announces)
    if step is Step.RECORD_ONLY and attempt is not None and attempt > referral.attempt:
        # A delivery outcome of a newer attempt is not a repeat; starting another attempt is the
        # escalation flow's business, and until it exists such a fact cannot be explained.
        raise IllegalTransition(referral.state, fact.announces, "attempt_ahead")
    return step


def apply(referral: Referral, fact: Fact) -> Referral:
    """The referral after `fact`: a new object; the one given is left as it was."""
    step = decide(referral, fact)
    organisation_id, attempt = referral.organisation_id, referral.attempt
    reasons, candidates = referral.reasons, referral.candidates
    match fact:
        case Matched():
            organisation_id, attempt = _fill(referral, fact.organisation_id, FIRST_ATTEMPT)
            reasons = reasons or fact.reasons
            candidates = candidates or fact.candidates
        case Unmatched():
            reasons = reasons or fact.reasons
        case Notified() | DeliveryFailed() if step is Step.ADVANCE:
            # The delivery names who was alerted and in which attempt: that is now the truth.
            organisation_id, attempt = fact.organisation_id, fact.attempt
        case Notified() | DeliveryFailed():
            organisation_id, attempt = _fill(referral, fact.organisation_id, fact.attempt)
    return dataclasses.replace(
        referral,
        state=fact.announces if step is Step.ADVANCE else referral.state,
        organisation_id=organisation_id,
        attempt=attempt,
        reasons=reasons,
        candidates=candidates,
    )


def _fill(referral: Referral, organisation_id: uuid.UUID, attempt: int) -> tuple[uuid.UUID, int]:
    """Only what is still missing: a late fact must not overwrite what a newer one established."""
    return (
        referral.organisation_id if referral.organisation_id is not None else organisation_id,
        referral.attempt if referral.attempt > 0 else attempt,
    )
