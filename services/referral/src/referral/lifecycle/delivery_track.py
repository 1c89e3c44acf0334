"""The delivery track: offer the case to one ranked candidate at a time, with a deadline; the partner
acknowledges, declines or lets it expire, and the referral moves on to the next candidate — or, when
none is left, is exhausted and the operators are alerted. Pure: no I/O, no clock."""

import dataclasses
import uuid
from datetime import datetime

from contracts.events import (
    Candidate,
    Event,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    OfferedOrganisation,
    OperatorAlertRaised,
    ReferralEscalated,
    ReferralExhausted,
)
from contracts.vocabulary import AlertKind, DeclineReason
from referral.lifecycle.domain import (
    ACTOR,
    Attempt,
    Change,
    Deadline,
    Entry,
    HandoffPolicy,
    Referral,
    end_attempt,
    target,
)
from referral.lifecycle.errors import IllegalTransition, LifecycleError, NotOffered, Reassigned, Withdrawn
from referral.lifecycle.states import (
    OPEN_ATTEMPT,
    Action,
    AttemptState,
    EscalationCause,
    Milestone,
    ReferralState,
)


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


def offer_to(referral: Referral, candidate: Candidate, *, at: datetime, policy: HandoffPolicy) -> Change:
    """The next attempt: the case offered to `candidate` until its deadline, with the timer to arm."""
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
        **referral.event_keys,
        attempt=number,
        organisation=OfferedOrganisation.model_validate(candidate, from_attributes=True),
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


def exhausted_alert_id(referral_id: uuid.UUID, last_attempt: int) -> uuid.UUID:
    """Deterministic, so that the alert of one exhaustion has one id wherever it is computed; a
    referral an operator re-offered may be exhausted again, and that is a new alert."""
    return uuid.uuid5(referral_id, f"referral_exhausted:{last_attempt}")


def move_on(
    referral: Referral, ended: Attempt, cause: EscalationCause, *, at: datetime, policy: HandoffPolicy
) -> Change:
    """After an attempt ended without acceptance: the next candidate, or exhaustion."""
    candidate = next_candidate(referral, policy)
    if candidate is not None:
        offer = offer_to(referral, candidate, at=at, policy=policy)
        escalated = ReferralEscalated(
            **referral.event_keys,
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
        ReferralExhausted(**referral.event_keys, attempts=attempts, exhausted_at=at),
        OperatorAlertRaised(
            case_id=referral.case_id,
            alert_id=exhausted_alert_id(referral.id, ended.number),
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
    state = target(referral, Action.ACKNOWLEDGE)
    ended = end_attempt(referral, offered, AttemptState.ACKNOWLEDGED, at, via=via)
    event = HandoffAcknowledged(
        **referral.event_keys,
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
    target(referral, Action.DECLINE)
    ended = end_attempt(referral, offered, AttemptState.DECLINED, at, decline_reason=reason)
    event = HandoffDeclined(
        **referral.event_keys,
        attempt=attempt,
        organisation_id=organisation_id,
        reason=reason,
        declined_at=at,
    )
    entry = Entry(Milestone.DECLINED, at, actor, attempt, organisation_id, {"reason": reason.value})
    moved = move_on(ended, offered, EscalationCause.DECLINED, at=at, policy=policy)
    return dataclasses.replace(moved, entries=(entry, *moved.entries), events=(event, *moved.events))


def expire(referral: Referral, *, attempt: int, at: datetime, policy: HandoffPolicy) -> Change | None:
    """The attempt's deadline passed; None if it had ended already (the timer is simply spent)."""
    offered = referral.attempt_no(attempt)
    if offered is None or offered.state not in OPEN_ATTEMPT or offered.number != referral.attempt:
        return None
    target(referral, Action.EXPIRE)
    ended = end_attempt(referral, offered, AttemptState.EXPIRED, at)
    event = HandoffExpired(
        **referral.event_keys,
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
    moved = move_on(ended, offered, EscalationCause.EXPIRED, at=at, policy=policy)
    return dataclasses.replace(moved, entries=(entry, *moved.entries), events=(event, *moved.events))
