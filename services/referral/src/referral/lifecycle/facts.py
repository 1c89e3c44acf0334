"""What other services report about a case, as facts the lifecycle applies: intake recorded a
consultation (a referral may open), the directory matched it or found no one, notify reached the
partner or could not. Repeats and late facts are recorded, never undone. Pure: no I/O, no clock.

handlers.py translates each event into one of these facts.
"""

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.events import Candidate
from contracts.vocabulary import LawfulBasis, Severity, Topic
from referral.lifecycle.delivery_track import move_on, next_candidate, offer_to
from referral.lifecycle.domain import (
    CaseNeeds,
    Change,
    Entry,
    HandoffPolicy,
    Referral,
    end_attempt,
    record_only,
    replace_attempt,
    target,
)
from referral.lifecycle.errors import IllegalTransition
from referral.lifecycle.operator_track import (
    ReofferAccepted,
    ReofferRefused,
    on_reoffer_accepted,
    on_reoffer_refused,
)
from referral.lifecycle.states import (
    OPEN_ATTEMPT,
    Action,
    AttemptState,
    EscalationCause,
    Milestone,
    ReferralState,
)


@dataclass(frozen=True)
class CaseRecorded:
    """Intake recorded a consultation: what a referral would be opened with, codes only."""

    case_id: uuid.UUID
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis | None
    needs: CaseNeeds


@dataclass(frozen=True)
class Matched:
    organisation_id: uuid.UUID
    reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    at: datetime


@dataclass(frozen=True)
class Unmatched:
    reasons: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class Notified:
    organisation_id: uuid.UUID
    attempt: int
    channel: str
    at: datetime


@dataclass(frozen=True)
class DeliveryFailed:
    organisation_id: uuid.UUID
    attempt: int
    reason: str
    at: datetime


Fact = Matched | Unmatched | Notified | DeliveryFailed | ReofferAccepted | ReofferRefused


def should_open_referral(case: CaseRecorded) -> bool:
    """Serious cases (S3, S4) with any lawful basis; referral-level ones (S2) only with consent."""
    if case.lawful_basis is None:
        return False
    if case.severity in (Severity.S3, Severity.S4):
        return True
    return case.severity is Severity.S2 and case.lawful_basis is LawfulBasis.CONSENT


def open_referral(case: CaseRecorded, *, referral_id: uuid.UUID, now: datetime) -> Referral:
    if case.lawful_basis is None:
        raise ValueError("a referral needs a lawful basis for sharing the case")
    # The case's codes as intake recorded them (CaseRecorded's fields are the referral's); no
    # organisation yet.
    return Referral(
        **vars(case),
        id=referral_id,
        state=ReferralState.REQUESTED,
        organisation_id=None,
        attempt=0,
        reasons=(),
        candidates=(),
        created_at=now,
        updated_at=now,
    )


def apply(referral: Referral, fact: Fact, *, actor: str, policy: HandoffPolicy, now: datetime) -> Change:
    """Another service's fact about the referral. Repeats and late facts are recorded, never undone;
    facts that contradict the state raise IllegalTransition (the event is dead-lettered)."""
    match fact:
        case Matched():
            return _on_matched(referral, fact, actor=actor, policy=policy, now=now)
        case Unmatched():
            entry = Entry(Milestone.UNMATCHED, fact.at, actor, detail={"reasons": list(fact.reasons)[:10]})
            if referral.state is ReferralState.UNMATCHED:
                return record_only(referral, dataclasses.replace(entry, detail={"late": True}))
            state = target(referral, Action.UNMATCH)
            return Change(dataclasses.replace(referral, state=state, reasons=fact.reasons), (entry,))
        case Notified():
            return _on_delivery_outcome(referral, fact, actor=actor, policy=policy)
        case DeliveryFailed():
            return _on_delivery_outcome(referral, fact, actor=actor, policy=policy)
        case ReofferAccepted():
            return on_reoffer_accepted(referral, fact, actor=actor, policy=policy, now=now)
        case ReofferRefused():
            return on_reoffer_refused(referral, fact, actor=actor)


def _on_matched(
    referral: Referral, fact: Matched, *, actor: str, policy: HandoffPolicy, now: datetime
) -> Change:
    entry = Entry(Milestone.MATCHED, fact.at, actor, organisation_id=fact.organisation_id)
    if referral.state is not ReferralState.REQUESTED:
        if referral.state is ReferralState.UNMATCHED:
            raise IllegalTransition(referral.state, Action.MATCH)
        # The same match again (a replay with a new event id): history, never a second offer.
        return record_only(referral, dataclasses.replace(entry, detail={"late": True}))
    target(referral, Action.MATCH)
    matched = dataclasses.replace(referral, reasons=fact.reasons, candidates=fact.candidates)
    first = next_candidate(matched, policy)
    if first is None:
        raise IllegalTransition(referral.state, Action.MATCH, "no_candidate")
    offer = offer_to(matched, first, at=now, policy=policy)
    return Change(offer.referral, (entry, *offer.entries), offer.events, offer.deadline)


def _on_delivery_outcome(
    referral: Referral, fact: Notified | DeliveryFailed, *, actor: str, policy: HandoffPolicy
) -> Change:
    action = Action.NOTIFY if isinstance(fact, Notified) else Action.DELIVERY_FAIL
    milestone = Milestone.NOTIFIED if isinstance(fact, Notified) else Milestone.DELIVERY_FAILED
    detail: dict[str, Any] = (
        {"channel": fact.channel} if isinstance(fact, Notified) else {"reason": fact.reason[:100]}
    )
    entry = Entry(milestone, fact.at, actor, fact.attempt, fact.organisation_id, detail)
    attempt = referral.attempt_no(fact.attempt)
    if attempt is None:
        # An alert for an attempt the referral never offered cannot be explained.
        raise IllegalTransition(referral.state, action, "attempt_ahead")
    if attempt.organisation_id != fact.organisation_id:
        raise IllegalTransition(referral.state, action, "organisation_mismatch")
    if fact.attempt < referral.attempt or attempt.state not in OPEN_ATTEMPT:
        # About an attempt that has ended: history, whatever it says.
        return record_only(referral, dataclasses.replace(entry, detail={**detail, "late": True}))
    if isinstance(fact, Notified):
        if referral.state is ReferralState.NOTIFIED:
            return record_only(referral, entry)  # another channel reached the partner too
        state = target(referral, action)
        notified = dataclasses.replace(attempt, state=AttemptState.NOTIFIED)
        return Change(
            dataclasses.replace(referral, state=state, attempts=replace_attempt(referral, notified)),
            (entry,),
        )
    # Every channel failed, so nobody was alerted: waiting for the deadline would only lose time.
    target(referral, action)
    ended = end_attempt(referral, attempt, AttemptState.DELIVERY_FAILED, fact.at)
    moved = move_on(ended, attempt, EscalationCause.DELIVERY_FAILED, at=fact.at, policy=policy)
    return dataclasses.replace(moved, entries=(entry, *moved.entries))
