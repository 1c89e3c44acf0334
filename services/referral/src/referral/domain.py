"""Referrals and their two tracks as explicit state machines. Pure: no I/O, no clock.

Delivery track: the referral offers the case to one ranked candidate at a time (an attempt) until a
deadline; the partner acknowledges, or declines, or lets it expire, or cannot be alerted at all —
then the next candidate is offered, until `max_attempts` organisations were alerted (one that could
not be alerted at all does not count), and after the last one the referral is
exhausted and operators are alerted. Outcome track, once a partner acknowledged (= accepted):
contacted (面談) → accompanied (同行支援, optional, may repeat) → closed with an outcome code.
The counsellor may withdraw a referral that has not ended.

Every function returns a `Change`: the referral after it, the timeline milestones, the events to
publish and the deadline to arm. service.py stores a Change in one transaction with its outbox rows.
"""

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Final

from contracts.events import (
    Candidate,
    ConsultationRecorded,
    Event,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    HandoffOutcomeRecorded,
    OfferedOrganisation,
    OperatorAlertRaised,
    ReferralEscalated,
    ReferralExhausted,
    ReferralRequested,
    ReferralWithdrawn,
)
from contracts.vocabulary import (
    AgeBand,
    AlertKind,
    DeclineReason,
    Gender,
    IssueTag,
    LawfulBasis,
    OutcomeCode,
    OutcomeStage,
    Severity,
    Topic,
)
from referral.deadlines import DeadlinePolicy

ACTOR: Final = "referral"


class ReferralState(StrEnum):
    REQUESTED = "requested"  # opened; waiting for the directory's answer
    UNMATCHED = "unmatched"  # no organisation can take it; operators must act
    OFFERED = "offered"  # the current attempt is offered; no alert has landed yet
    NOTIFIED = "notified"  # the current attempt's alert reached the partner on some channel
    ACKNOWLEDGED = "acknowledged"  # the partner accepted: the outcome track starts
    CONTACTED = "contacted"  # 面談 done
    ACCOMPANIED = "accompanied"  # 同行支援 (hospital, police, welfare office …)
    CLOSED = "closed"  # with an outcome code
    EXHAUSTED = "exhausted"  # every candidate declined, expired or was unreachable: operators act
    WITHDRAWN = "withdrawn"  # by the counsellor, with a reason


OPEN_OFFER: Final = frozenset({ReferralState.OFFERED, ReferralState.NOTIFIED})
ACCEPTED: Final = frozenset(
    {ReferralState.ACKNOWLEDGED, ReferralState.CONTACTED, ReferralState.ACCOMPANIED, ReferralState.CLOSED}
)


class Milestone(StrEnum):
    """What a timeline entry records: the states, and the steps between them."""

    REQUESTED = "requested"
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    OFFERED = "offered"
    NOTIFIED = "notified"
    DELIVERY_FAILED = "delivery_failed"
    ACKNOWLEDGED = "acknowledged"
    DECLINED = "declined"
    EXPIRED = "expired"
    ESCALATED = "escalated"
    EXHAUSTED = "exhausted"
    CONTACTED = "contacted"
    ACCOMPANIED = "accompanied"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class AttemptState(StrEnum):
    OFFERED = "offered"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    DECLINED = "declined"
    EXPIRED = "expired"
    DELIVERY_FAILED = "delivery_failed"
    WITHDRAWN = "withdrawn"


OPEN_ATTEMPT: Final = frozenset({AttemptState.OFFERED, AttemptState.NOTIFIED})


class Action(StrEnum):
    MATCH = "matched"
    UNMATCH = "unmatched"
    NOTIFY = "notified"
    DELIVERY_FAIL = "delivery_failed"
    ACKNOWLEDGE = "acknowledged"
    DECLINE = "declined"
    EXPIRE = "expired"
    CONTACT = "contacted"
    ACCOMPANY = "accompanied"
    CLOSE = "closed"
    WITHDRAW = "withdrawn"


class EscalationCause(StrEnum):
    DECLINED = "declined"
    EXPIRED = "expired"
    DELIVERY_FAILED = "delivery_failed"


class WithdrawReason(StrEnum):
    RESOLVED_ON_CALL = "resolved_on_call"
    DUPLICATE = "duplicate"
    PERSON_REQUEST = "person_request"
    OTHER = "other"


class AccompaniedTo(StrEnum):
    HOSPITAL = "hospital"
    POLICE = "police"
    WELFARE_OFFICE = "welfare_office"
    OTHER = "other"


_S, _A = ReferralState, Action

# The whole lifecycle: rows are the referral's state, columns what happens, cells the new state;
# a missing cell is illegal. DECLINE, EXPIRE and DELIVERY_FAIL end the current attempt and offer
# the next candidate (OFFERED) — or, when none is left, the referral is EXHAUSTED instead.
TRANSITIONS: Final[Mapping[ReferralState, Mapping[Action, ReferralState]]] = {
    _S.REQUESTED: {_A.MATCH: _S.OFFERED, _A.UNMATCH: _S.UNMATCHED, _A.WITHDRAW: _S.WITHDRAWN},
    _S.UNMATCHED: {_A.WITHDRAW: _S.WITHDRAWN},
    _S.OFFERED: {
        _A.NOTIFY: _S.NOTIFIED,
        _A.ACKNOWLEDGE: _S.ACKNOWLEDGED,
        _A.DECLINE: _S.OFFERED,
        _A.EXPIRE: _S.OFFERED,
        _A.DELIVERY_FAIL: _S.OFFERED,
        _A.WITHDRAW: _S.WITHDRAWN,
    },
    _S.NOTIFIED: {
        _A.ACKNOWLEDGE: _S.ACKNOWLEDGED,
        _A.DECLINE: _S.OFFERED,
        _A.EXPIRE: _S.OFFERED,
        _A.WITHDRAW: _S.WITHDRAWN,
    },
    _S.ACKNOWLEDGED: {_A.CONTACT: _S.CONTACTED, _A.CLOSE: _S.CLOSED, _A.WITHDRAW: _S.WITHDRAWN},
    _S.CONTACTED: {_A.ACCOMPANY: _S.ACCOMPANIED, _A.CLOSE: _S.CLOSED, _A.WITHDRAW: _S.WITHDRAWN},
    _S.ACCOMPANIED: {_A.ACCOMPANY: _S.ACCOMPANIED, _A.CLOSE: _S.CLOSED, _A.WITHDRAW: _S.WITHDRAWN},
    _S.CLOSED: {},
    _S.EXHAUSTED: {_A.WITHDRAW: _S.WITHDRAWN},
    _S.WITHDRAWN: {},
}


# ---- errors ------------------------------------------------------------------------------------


class LifecycleError(Exception):
    """A command the lifecycle refuses; `code` is machine-readable, `message` says what to do."""

    status: ClassVar[int] = 409
    code: ClassVar[str] = "conflict"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalTransition(LifecycleError):
    code = "illegal_transition"

    def __init__(self, current: ReferralState, action: Action, why: str = "") -> None:
        self.current = current
        self.action = action
        self.reason = f"illegal_transition:{current.value}->{action.value}" + (f":{why}" if why else "")
        super().__init__(f"A referral that is {current.value} cannot become {action.value}.")


class Reassigned(LifecycleError):
    code = "reassigned"

    def __init__(self) -> None:
        super().__init__(
            "This handoff was reassigned: it was declined, expired or undeliverable and has moved on "
            "to another organisation (or to the operators). Nothing was recorded for you."
        )


class Withdrawn(LifecycleError):
    code = "withdrawn"

    def __init__(self) -> None:
        super().__init__("The counsellor withdrew this referral; there is nothing to acknowledge.")


class NotOffered(LifecycleError):
    """No such attempt for this organisation: indistinguishable from a missing referral."""

    status = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("No referral with that id is visible to you.")


class InvalidOutcome(LifecycleError):
    status = 422
    code = "validation_failed"


# ---- the aggregate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    number: int
    organisation_id: uuid.UUID
    state: AttemptState
    offered_at: datetime
    deadline_at: datetime
    ended_at: datetime | None = None
    decline_reason: DeclineReason | None = None
    via: str | None = None  # how it was acknowledged: link | api


@dataclass(frozen=True)
class CaseNeeds:
    """What the directory ranks on besides topic, area and severity; codes from the consultation.
    No defaults: a referral that forgot them would be matched as somebody else."""

    need_tags: tuple[IssueTag, ...]
    age_band: AgeBand
    gender: Gender
    language: str


@dataclass(frozen=True)
class Referral:
    id: uuid.UUID
    case_id: uuid.UUID
    state: ReferralState
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis
    needs: CaseNeeds
    organisation_id: uuid.UUID | None  # the current attempt's organisation
    attempt: int  # the current attempt's number; 0 until one is offered
    reasons: tuple[str, ...]  # the directory's reasons for its match, or for finding none
    candidates: tuple[Candidate, ...]
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None = None  # the open attempt's deadline
    attempts: tuple[Attempt, ...] = ()  # loaded by the repository's get and lock only

    @property
    def current(self) -> Attempt | None:
        return next((a for a in self.attempts if a.number == self.attempt), None)

    def attempt_no(self, number: int) -> Attempt | None:
        return next((a for a in self.attempts if a.number == number), None)

    def requested_event(self) -> ReferralRequested:
        return ReferralRequested(
            case_id=self.case_id,
            referral_id=self.id,
            topic=self.topic,
            municipality_code=self.municipality_code,
            severity=self.severity,
            lawful_basis=self.lawful_basis,
            requested_at=self.created_at,
            need_tags=self.needs.need_tags,
            age_band=self.needs.age_band,
            gender=self.needs.gender,
            language=self.needs.language,
        )

    @property
    def attempts_spent(self) -> int:
        """Attempts that reached the organisation (or could have): one whose every alert channel
        failed alerted nobody, so it does not spend the budget."""
        return sum(1 for a in self.attempts if a.state is not AttemptState.DELIVERY_FAILED)


@dataclass(frozen=True)
class HandoffPolicy:
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


@dataclass(frozen=True)
class Entry:
    """One timeline milestone. `detail` holds ids and codes only: partners and operators read it."""

    milestone: Milestone
    at: datetime
    actor: str
    attempt: int | None = None
    organisation_id: uuid.UUID | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineEntry:
    """A stored milestone as read back, with the trace it happened in."""

    milestone: Milestone
    at: datetime
    actor: str
    trace_id: str | None
    attempt: int | None
    organisation_id: uuid.UUID | None
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class Deadline:
    attempt: int
    due_at: datetime


@dataclass(frozen=True)
class Change:
    referral: Referral
    entries: tuple[Entry, ...] = ()
    events: tuple[Event, ...] = ()
    deadline: Deadline | None = None
    repeated: bool = False  # an idempotent repeat: nothing new happened, nothing to store


# ---- facts other services report, translated from their events by handlers.py -----------------


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


Fact = Matched | Unmatched | Notified | DeliveryFailed


def should_open_referral(event: ConsultationRecorded) -> bool:
    """Serious cases (S3, S4) with any lawful basis; referral-level ones (S2) only with consent."""
    if event.lawful_basis is None:
        return False
    if event.severity in (Severity.S3, Severity.S4):
        return True
    return event.severity is Severity.S2 and event.lawful_basis is LawfulBasis.CONSENT


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
        needs=CaseNeeds(event.need_tags, event.age_band, event.gender, event.language),
        organisation_id=None,
        attempt=0,
        reasons=(),
        candidates=(),
        created_at=now,
        updated_at=now,
    )


def _target(referral: Referral, action: Action, why: str = "") -> ReferralState:
    target = TRANSITIONS[referral.state].get(action)
    if target is None:
        raise IllegalTransition(referral.state, action, why)
    return target


def _replace_attempt(referral: Referral, attempt: Attempt) -> tuple[Attempt, ...]:
    return tuple(attempt if a.number == attempt.number else a for a in referral.attempts)


def _record_only(referral: Referral, entry: Entry) -> Change:
    return Change(referral, entries=(entry,))


# ---- the delivery track ------------------------------------------------------------------------


def next_candidate(referral: Referral, policy: HandoffPolicy) -> Candidate | None:
    """The best-ranked candidate not offered yet, while attempts remain. An organisation that could
    not be alerted at all is passed over without spending an attempt; each candidate is offered
    at most once, so the ranking (ten at most) bounds the walk."""
    if referral.attempts_spent >= policy.max_attempts:
        return None
    tried = {a.organisation_id for a in referral.attempts}
    return next(
        (c for c in sorted(referral.candidates, key=lambda c: c.rank) if c.organisation_id not in tried),
        None,
    )


def _offer(referral: Referral, candidate: Candidate, *, at: datetime, policy: HandoffPolicy) -> Change:
    number = referral.attempt + 1
    deadline = policy.deadlines.deadline(referral.severity, offered_at=at, candidate=candidate)
    attempt = Attempt(number, candidate.organisation_id, AttemptState.OFFERED, at, deadline)
    offered = dataclasses.replace(
        referral,
        state=ReferralState.OFFERED,
        organisation_id=candidate.organisation_id,
        attempt=number,
        deadline_at=deadline,
        attempts=(*referral.attempts, attempt),
    )
    event = HandoffOffered(
        case_id=referral.case_id,
        referral_id=referral.id,
        attempt=number,
        organisation=OfferedOrganisation(
            organisation_id=candidate.organisation_id,
            name=candidate.name,
            webhook_url=candidate.webhook_url,
            email=candidate.email,
            channels=candidate.channels,
        ),
        topic=referral.topic,
        municipality_code=referral.municipality_code,
        severity=referral.severity,
        deadline_at=deadline,
        offered_at=at,
        need_tags=referral.needs.need_tags,
        age_band=referral.needs.age_band,
        language=referral.needs.language,
    )
    entry = Entry(
        Milestone.OFFERED,
        at,
        ACTOR,
        number,
        candidate.organisation_id,
        {"rank": candidate.rank, "tier": candidate.tier, "deadline_at": deadline.isoformat()},
    )
    return Change(offered, (entry,), (event,), Deadline(number, deadline))


def exhausted_alert_id(referral_id: uuid.UUID) -> uuid.UUID:
    """Deterministic, so that the alert of one exhaustion has one id wherever it is computed."""
    return uuid.uuid5(referral_id, "referral_exhausted")


def _move_on(
    referral: Referral, ended: Attempt, cause: EscalationCause, *, at: datetime, policy: HandoffPolicy
) -> Change:
    """After an attempt ended without acceptance: the next candidate, or exhaustion."""
    candidate = next_candidate(referral, policy)
    if candidate is not None:
        offer = _offer(referral, candidate, at=at, policy=policy)
        escalated = ReferralEscalated(
            case_id=referral.case_id,
            referral_id=referral.id,
            from_attempt=ended.number,
            to_attempt=ended.number + 1,
            from_organisation_id=ended.organisation_id,
            to_organisation_id=candidate.organisation_id,
            cause=cause.value,
            escalated_at=at,
        )
        # Recorded under the attempt that ended: its partner may read that it was reassigned,
        # but not to whom.
        entry = Entry(
            Milestone.ESCALATED,
            at,
            ACTOR,
            ended.number,
            ended.organisation_id,
            {"cause": cause.value, "to_attempt": ended.number + 1},
        )
        return Change(offer.referral, (entry, *offer.entries), (escalated, *offer.events), offer.deadline)
    attempts = referral.attempts_spent
    exhausted = dataclasses.replace(referral, state=ReferralState.EXHAUSTED, deadline_at=None)
    events: tuple[Event, ...] = (
        ReferralExhausted(
            case_id=referral.case_id, referral_id=referral.id, attempts=attempts, exhausted_at=at
        ),
        OperatorAlertRaised(
            case_id=referral.case_id,
            alert_id=exhausted_alert_id(referral.id),
            kind=AlertKind.REFERRAL_EXHAUSTED,
            referral_id=referral.id,
            severity=referral.severity,
            raised_by=ACTOR,
            detail=(f"cause:{cause.value}", f"attempts:{attempts}"),
            raised_at=at,
        ),
    )
    entry = Entry(Milestone.EXHAUSTED, at, ACTOR, detail={"cause": cause.value, "attempts": attempts})
    return Change(exhausted, (entry,), events)


def _end_attempt(
    referral: Referral, attempt: Attempt, state: AttemptState, at: datetime, **changes: Any
) -> Referral:
    ended = dataclasses.replace(attempt, state=state, ended_at=at, **changes)
    return dataclasses.replace(referral, attempts=_replace_attempt(referral, ended), deadline_at=None)


def apply(referral: Referral, fact: Fact, *, actor: str, policy: HandoffPolicy, now: datetime) -> Change:
    """Another service's fact about the referral. Repeats and late facts are recorded, never undone;
    facts that contradict the state raise IllegalTransition (the event is dead-lettered)."""
    match fact:
        case Matched():
            return _on_matched(referral, fact, actor=actor, policy=policy, now=now)
        case Unmatched():
            entry = Entry(Milestone.UNMATCHED, fact.at, actor, detail={"reasons": list(fact.reasons)[:10]})
            if referral.state is ReferralState.UNMATCHED:
                return _record_only(referral, dataclasses.replace(entry, detail={"late": True}))
            state = _target(referral, Action.UNMATCH)
            return Change(dataclasses.replace(referral, state=state, reasons=fact.reasons), (entry,))
        case Notified():
            return _on_delivery_outcome(referral, fact, actor=actor, policy=policy)
        case DeliveryFailed():
            return _on_delivery_outcome(referral, fact, actor=actor, policy=policy)


def _on_matched(
    referral: Referral, fact: Matched, *, actor: str, policy: HandoffPolicy, now: datetime
) -> Change:
    entry = Entry(Milestone.MATCHED, fact.at, actor, organisation_id=fact.organisation_id)
    if referral.state is not ReferralState.REQUESTED:
        if referral.state is ReferralState.UNMATCHED:
            raise IllegalTransition(referral.state, Action.MATCH)
        # The same match again (a replay with a new event id): history, never a second offer.
        return _record_only(referral, dataclasses.replace(entry, detail={"late": True}))
    _target(referral, Action.MATCH)
    matched = dataclasses.replace(referral, reasons=fact.reasons, candidates=fact.candidates)
    first = next_candidate(matched, policy)
    if first is None:
        raise IllegalTransition(referral.state, Action.MATCH, "no_candidate")
    offer = _offer(matched, first, at=now, policy=policy)
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
        return _record_only(referral, dataclasses.replace(entry, detail={**detail, "late": True}))
    if isinstance(fact, Notified):
        if referral.state is ReferralState.NOTIFIED:
            return _record_only(referral, entry)  # another channel reached the partner too
        state = _target(referral, action)
        notified = dataclasses.replace(attempt, state=AttemptState.NOTIFIED)
        return Change(
            dataclasses.replace(referral, state=state, attempts=_replace_attempt(referral, notified)),
            (entry,),
        )
    # Every channel failed, so nobody was alerted: waiting for the deadline would only lose time.
    _target(referral, action)
    ended = _end_attempt(referral, attempt, AttemptState.DELIVERY_FAILED, fact.at)
    moved = _move_on(ended, attempt, EscalationCause.DELIVERY_FAILED, at=fact.at, policy=policy)
    return dataclasses.replace(moved, entries=(entry, *moved.entries))


def _attempt_of(referral: Referral, number: int, organisation_id: uuid.UUID) -> Attempt:
    attempt = referral.attempt_no(number)
    if attempt is None or attempt.organisation_id != organisation_id:
        raise NotOffered()
    return attempt


def _moved_on(referral: Referral, attempt: Attempt) -> LifecycleError:
    if attempt.state is AttemptState.WITHDRAWN or referral.state is ReferralState.WITHDRAWN:
        return Withdrawn()
    return Reassigned()


def acknowledge(
    referral: Referral, *, attempt: int, organisation_id: uuid.UUID, via: str, actor: str, at: datetime
) -> Change:
    """The partner accepts the attempt. Again after accepting: harmless, `repeated`."""
    offered = _attempt_of(referral, attempt, organisation_id)
    if offered.state is AttemptState.ACKNOWLEDGED:
        return Change(referral, repeated=True)
    if offered.state not in OPEN_ATTEMPT or offered.number != referral.attempt:
        raise _moved_on(referral, offered)
    state = _target(referral, Action.ACKNOWLEDGE)
    ended = _end_attempt(referral, offered, AttemptState.ACKNOWLEDGED, at, via=via)
    event = HandoffAcknowledged(
        case_id=referral.case_id,
        referral_id=referral.id,
        attempt=attempt,
        organisation_id=organisation_id,
        via=via,
        acknowledged_at=at,
    )
    entry = Entry(Milestone.ACKNOWLEDGED, at, actor, attempt, organisation_id, {"via": via})
    return Change(dataclasses.replace(ended, state=state), (entry,), (event,))


def acknowledgement_of(referral: Referral, *, attempt: int, organisation_id: uuid.UUID) -> Attempt:
    """Read-only: the attempt if this organisation acknowledged it, else the error acting would give."""
    offered = _attempt_of(referral, attempt, organisation_id)
    if offered.state is AttemptState.ACKNOWLEDGED:
        return offered
    if offered.state in OPEN_ATTEMPT:
        raise IllegalTransition(referral.state, Action.ACKNOWLEDGE, "not_acknowledged")
    raise _moved_on(referral, offered)


def decline(
    referral: Referral,
    *,
    attempt: int,
    organisation_id: uuid.UUID,
    reason: DeclineReason,
    actor: str,
    at: datetime,
    policy: HandoffPolicy,
) -> Change:
    """The partner declines with a reason code; the next candidate is offered at once."""
    offered = _attempt_of(referral, attempt, organisation_id)
    if offered.state is AttemptState.DECLINED:
        return Change(referral, repeated=True)
    if offered.state is AttemptState.ACKNOWLEDGED:
        raise IllegalTransition(referral.state, Action.DECLINE, "already_acknowledged")
    if offered.state not in OPEN_ATTEMPT or offered.number != referral.attempt:
        raise _moved_on(referral, offered)
    _target(referral, Action.DECLINE)
    ended = _end_attempt(referral, offered, AttemptState.DECLINED, at, decline_reason=reason)
    event = HandoffDeclined(
        case_id=referral.case_id,
        referral_id=referral.id,
        attempt=attempt,
        organisation_id=organisation_id,
        reason=reason,
        declined_at=at,
    )
    entry = Entry(Milestone.DECLINED, at, actor, attempt, organisation_id, {"reason": reason.value})
    moved = _move_on(ended, offered, EscalationCause.DECLINED, at=at, policy=policy)
    return dataclasses.replace(moved, entries=(entry, *moved.entries), events=(event, *moved.events))


def expire(referral: Referral, *, attempt: int, at: datetime, policy: HandoffPolicy) -> Change | None:
    """The attempt's deadline passed; None if it had ended already (the timer is simply spent)."""
    offered = referral.attempt_no(attempt)
    if offered is None or offered.state not in OPEN_ATTEMPT or offered.number != referral.attempt:
        return None
    _target(referral, Action.EXPIRE)
    ended = _end_attempt(referral, offered, AttemptState.EXPIRED, at)
    event = HandoffExpired(
        case_id=referral.case_id,
        referral_id=referral.id,
        attempt=attempt,
        organisation_id=offered.organisation_id,
        deadline_at=offered.deadline_at,
        expired_at=at,
    )
    entry = Entry(
        Milestone.EXPIRED,
        at,
        ACTOR,
        attempt,
        offered.organisation_id,
        {"deadline_at": offered.deadline_at.isoformat()},
    )
    moved = _move_on(ended, offered, EscalationCause.EXPIRED, at=at, policy=policy)
    return dataclasses.replace(moved, entries=(entry, *moved.entries), events=(event, *moved.events))


# ---- the outcome track -------------------------------------------------------------------------

_STAGE_ACTION: Final = {
    OutcomeStage.CONTACTED: (Action.CONTACT, Milestone.CONTACTED),
    OutcomeStage.ACCOMPANIED: (Action.ACCOMPANY, Milestone.ACCOMPANIED),
    OutcomeStage.CLOSED: (Action.CLOSE, Milestone.CLOSED),
}


def record_outcome(
    referral: Referral,
    *,
    organisation_id: uuid.UUID,
    stage: OutcomeStage,
    outcome: OutcomeCode | None,
    accompanied_to: AccompaniedTo | None,
    actor: str,
    at: datetime,
) -> Change:
    """The accepting organisation records 面談, 同行支援 or the closing outcome."""
    current = referral.current
    if (
        current is None
        or current.organisation_id != organisation_id
        or current.state is not AttemptState.ACKNOWLEDGED
    ):
        raise NotOffered()
    if (stage is OutcomeStage.CLOSED) != (outcome is not None):
        raise InvalidOutcome("An outcome code is given when, and only when, the stage is closed.")
    if (stage is OutcomeStage.ACCOMPANIED) != (accompanied_to is not None):
        raise InvalidOutcome("accompanied_to is given when, and only when, the stage is accompanied.")
    action, milestone = _STAGE_ACTION[stage]
    state = _target(referral, action)
    event = HandoffOutcomeRecorded(
        case_id=referral.case_id,
        referral_id=referral.id,
        organisation_id=organisation_id,
        stage=stage,
        outcome=outcome,
        accompanied_to=accompanied_to.value if accompanied_to else None,
        recorded_at=at,
    )
    detail = {
        key: value.value
        for key, value in (("outcome", outcome), ("accompanied_to", accompanied_to))
        if value is not None
    }
    entry = Entry(milestone, at, actor, current.number, organisation_id, detail)
    return Change(dataclasses.replace(referral, state=state), (entry,), (event,))


def withdraw(referral: Referral, *, reason: WithdrawReason, actor: str, at: datetime) -> Change:
    """The counsellor withdraws the referral; an open offer ends with it."""
    state = _target(referral, Action.WITHDRAW)
    current = referral.current
    withdrawn = referral
    if current is not None and current.state in OPEN_ATTEMPT:
        withdrawn = _end_attempt(referral, current, AttemptState.WITHDRAWN, at)
    event = ReferralWithdrawn(
        case_id=referral.case_id, referral_id=referral.id, reason=reason.value, withdrawn_at=at
    )
    entry = Entry(Milestone.WITHDRAWN, at, actor, detail={"reason": reason.value})
    return Change(dataclasses.replace(withdrawn, state=state, deadline_at=None), (entry,), (event,))


def delivery_outcome(referral: Referral) -> str | None:
    """How the delivery track ended: acknowledged, exhausted or withdrawn; None while it runs."""
    if referral.state in ACCEPTED:
        return "acknowledged"
    if referral.state in (ReferralState.EXHAUSTED, ReferralState.WITHDRAWN):
        return referral.state.value
    return None
