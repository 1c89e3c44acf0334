"""The outcome track, once a partner accepted: contacted (面談) → accompanied (同行支援, optional, may
repeat) → closed with an outcome code; and the counsellor's withdrawal. Pure: no I/O, no clock."""

import dataclasses
import uuid
from datetime import datetime
from typing import Final

from contracts.events import HandoffOutcomeRecorded, ReferralWithdrawn
from contracts.vocabulary import OutcomeCode, OutcomeStage
from referral.lifecycle.domain import Change, Entry, Referral, end_attempt, target
from referral.lifecycle.errors import InvalidOutcome, NotOffered
from referral.lifecycle.states import (
    ACCEPTED,
    OPEN_ATTEMPT,
    AccompaniedTo,
    Action,
    AttemptState,
    Milestone,
    ReferralState,
    WithdrawReason,
)

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
    state = target(referral, action)
    event = HandoffOutcomeRecorded(
        **referral.event_keys,
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
    state = target(referral, Action.WITHDRAW)
    current = referral.current
    withdrawn = referral
    if current is not None and current.state in OPEN_ATTEMPT:
        withdrawn = end_attempt(referral, current, AttemptState.WITHDRAWN, at)
    event = ReferralWithdrawn(**referral.event_keys, reason=reason.value, withdrawn_at=at)
    entry = Entry(Milestone.WITHDRAWN, at, actor, detail={"reason": reason.value})
    return Change(dataclasses.replace(withdrawn, state=state, deadline_at=None), (entry,), (event,))


def delivery_outcome(referral: Referral) -> str | None:
    """How the delivery track ended: acknowledged, exhausted or withdrawn; None while it runs."""
    if referral.state in ACCEPTED:
        return "acknowledged"
    if referral.state in (ReferralState.EXHAUSTED, ReferralState.WITHDRAWN):
        return referral.state.value
    return None
