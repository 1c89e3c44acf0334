"""Who may read which referral, and how much of it. Pure: no I/O.

Counsellors and operators read everything. A partner reads a referral only while it is offered to,
or accepted by, its own organisation, and then only its own attempts and their timeline entries; a
referral it may not read looks exactly like one that does not exist.
"""

import dataclasses
import uuid
from dataclasses import dataclass

from eventkit.auth import Principal, Role
from referral.lifecycle.domain import Referral, TimelineEntry
from referral.lifecycle.states import OPEN_ATTEMPT, TRANSITIONS, Action, AttemptState

# Timeline details kept for provenance only: the id of the event a fact came in.
_INTERNAL_DETAIL = frozenset({"event_id"})


# The steps a person takes; every other action (matched, notified, expired …) only happens to a
# referral. Which of these a reader may take now is `actions_for`'s answer, never a screen's guess.
STAFF_ACTIONS = frozenset({Action.WITHDRAW})
OPERATOR_ACTIONS = frozenset({Action.REOFFER, Action.HANDLE_ELSEWHERE})
OFFER_ANSWERS = frozenset({Action.ACKNOWLEDGE, Action.DECLINE})
OUTCOME_STEPS = frozenset({Action.CONTACT, Action.ACCOMPANY, Action.CLOSE})


@dataclass(frozen=True)
class ReferralRecord:
    """A referral with its timeline, as much of both as the reader may see, and the steps the
    reader may take on it now."""

    referral: Referral
    timeline: tuple[TimelineEntry, ...]
    actions: tuple[Action, ...] = ()


def is_staff(principal: Principal) -> bool:
    return principal.role in (Role.COUNSELLOR, Role.OPERATOR)


def may_read(principal: Principal, referral: Referral) -> bool:
    if is_staff(principal):
        return True
    return referral.organisation_id is not None and principal.is_partner_of(referral.organisation_id)


def actions_for(principal: Principal, referral: Referral) -> tuple[Action, ...]:
    """The steps `principal` may take on the referral in its current state: the TRANSITIONS table's
    legal actions, narrowed to the reader's part — staff withdraw; the organisation of the current
    attempt answers an open offer, and records 面談, 同行支援 and the close once it accepted."""
    current = referral.current
    if principal.role is Role.OPERATOR:
        theirs: frozenset[Action] = STAFF_ACTIONS | OPERATOR_ACTIONS
    elif is_staff(principal):
        theirs = STAFF_ACTIONS
    elif current is not None and principal.is_partner_of(current.organisation_id):
        if current.state in OPEN_ATTEMPT:
            theirs = OFFER_ANSWERS
        elif current.state is AttemptState.ACKNOWLEDGED:
            theirs = OUTCOME_STEPS
        else:
            theirs = frozenset()
    else:
        theirs = frozenset()
    legal = TRANSITIONS[referral.state]
    return tuple(action for action in Action if action in legal and action in theirs)


def narrowed_to(principal: Principal) -> uuid.UUID | None:
    """The organisation whose attempts a partner's reads are narrowed to; None for the staff."""
    return principal.organisation_id if principal.role is Role.PARTNER else None


def seen(
    referral: Referral,
    timeline: list[TimelineEntry],
    *,
    only: uuid.UUID | None,
    actions: tuple[Action, ...] = (),
) -> ReferralRecord:
    """The referral with only `only`'s attempts (all of them for None), and each timeline entry
    without its internal details."""
    attempts = tuple(a for a in referral.attempts if only is None or a.organisation_id == only)
    entries = tuple(
        dataclasses.replace(e, detail={k: v for k, v in e.detail.items() if k not in _INTERNAL_DETAIL})
        for e in timeline
    )
    return ReferralRecord(dataclasses.replace(referral, attempts=attempts), entries, actions)
