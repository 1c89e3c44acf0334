"""The operator track: a referral nobody took (unmatched or exhausted) is not a dead end. An operator
chooses an organisation to offer it to — the directory confirms it can be alerted, and the case is
offered to it as the next attempt, with a deadline, as any other — or records that the case was
handled another way, with a reason code. Pure: no I/O, no clock."""

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime

from contracts.events import Candidate, ReferralHandledElsewhere, ReofferRequested
from contracts.vocabulary import HandledElsewhereReason
from referral.lifecycle.delivery_track import offer_to
from referral.lifecycle.domain import (
    Change,
    Entry,
    HandoffPolicy,
    PendingReoffer,
    Referral,
    record_only,
    target,
)
from referral.lifecycle.errors import AlreadyOffered
from referral.lifecycle.states import TRANSITIONS, Action, Milestone


@dataclass(frozen=True)
class ReofferAccepted:
    """The directory's answer: the organisation the operator chose, as a candidate to offer to."""

    request_id: uuid.UUID
    candidate: Candidate
    at: datetime


@dataclass(frozen=True)
class ReofferRefused:
    """The directory's answer: the organisation cannot be offered the case (reason codes)."""

    request_id: uuid.UUID
    organisation_id: uuid.UUID
    reasons: tuple[str, ...]
    at: datetime


def request_reoffer(
    referral: Referral, *, organisation_id: uuid.UUID, request_id: uuid.UUID, actor: str, at: datetime
) -> Change:
    """The operator's choice; the directory is asked for the organisation's channels and hours. A
    newer choice replaces one still waiting: the older answer is then only history."""
    target(referral, Action.REOFFER)
    if any(a.organisation_id == organisation_id for a in referral.attempts):
        raise AlreadyOffered()
    pending = dataclasses.replace(
        referral, pending_reoffer=PendingReoffer(request_id, organisation_id), updated_at=at
    )
    event = ReofferRequested(
        **referral.match_request(), request_id=request_id, organisation_id=organisation_id, requested_at=at
    )
    entry = Entry(
        Milestone.REOFFER_REQUESTED,
        at,
        actor,
        organisation_id=organisation_id,
        detail={"request_id": str(request_id)},
    )
    return Change(pending, (entry,), (event,))


def _is_awaited(referral: Referral, request_id: uuid.UUID) -> bool:
    pending = referral.pending_reoffer
    return pending is not None and pending.request_id == request_id


def on_reoffer_accepted(
    referral: Referral, fact: ReofferAccepted, *, actor: str, policy: HandoffPolicy, now: datetime
) -> Change:
    """The chosen organisation is offered the case as the next attempt. An answer nobody waits
    for any more (replaced, withdrawn, handled elsewhere) is history."""
    organisation_id = fact.candidate.organisation_id
    if not _is_awaited(referral, fact.request_id) or Action.REOFFER not in TRANSITIONS[referral.state]:
        entry = Entry(
            Milestone.MATCHED, fact.at, actor, organisation_id=organisation_id, detail={"late": True}
        )
        return record_only(referral, entry)
    entry = Entry(
        Milestone.MATCHED,
        fact.at,
        actor,
        organisation_id=organisation_id,
        detail={"request_id": str(fact.request_id), "operator_choice": True},
    )
    chosen = dataclasses.replace(referral, pending_reoffer=None)
    offer = offer_to(chosen, fact.candidate, at=now, policy=policy)
    return Change(offer.referral, (entry, *offer.entries), offer.events, offer.deadline)


def on_reoffer_refused(referral: Referral, fact: ReofferRefused, *, actor: str) -> Change:
    """Nothing is offered; the referral stays where it was and the operator chooses again."""
    detail: dict[str, object] = {"reasons": list(fact.reasons)[:10], "request_id": str(fact.request_id)}
    entry = Entry(Milestone.REOFFER_REFUSED, fact.at, actor, organisation_id=fact.organisation_id)
    if not _is_awaited(referral, fact.request_id):
        return record_only(referral, dataclasses.replace(entry, detail={**detail, "late": True}))
    cleared = dataclasses.replace(referral, pending_reoffer=None)
    return Change(cleared, (dataclasses.replace(entry, detail=detail),))


def handle_elsewhere(
    referral: Referral, *, reason: HandledElsewhereReason, actor: str, at: datetime
) -> Change:
    """The operator records how the case was handled outside Tsunagu; the handoff ends."""
    state = target(referral, Action.HANDLE_ELSEWHERE)
    event = ReferralHandledElsewhere(**referral.event_keys, reason=reason, handled_at=at)
    entry = Entry(Milestone.HANDLED_ELSEWHERE, at, actor, detail={"reason": reason.value})
    done = dataclasses.replace(referral, state=state, pending_reoffer=None, deadline_at=None)
    return Change(done, (entry,), (event,))
