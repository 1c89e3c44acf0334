"""The referral's states, its attempts' states, what can happen to it and the one TRANSITIONS table
between them; the reason codes of the two tracks. Pure."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Final


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
    HANDLED_ELSEWHERE = "handled_elsewhere"  # nobody took it; an operator recorded another way


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
    REOFFER_REQUESTED = "reoffer_requested"  # an operator chose an organisation
    REOFFER_REFUSED = "reoffer_refused"  # the directory found it cannot be offered the case
    HANDLED_ELSEWHERE = "handled_elsewhere"


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
    REOFFER = "reoffered"  # an operator's choice, confirmed by the directory: a new attempt
    HANDLE_ELSEWHERE = "handled_elsewhere"


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
# From UNMATCHED and EXHAUSTED an operator re-offers the case to an organisation of their choosing
# (a new attempt, once the directory confirmed it can be alerted) or records it handled elsewhere.
TRANSITIONS: Final[Mapping[ReferralState, Mapping[Action, ReferralState]]] = {
    _S.REQUESTED: {_A.MATCH: _S.OFFERED, _A.UNMATCH: _S.UNMATCHED, _A.WITHDRAW: _S.WITHDRAWN},
    _S.UNMATCHED: {
        _A.REOFFER: _S.OFFERED,
        _A.HANDLE_ELSEWHERE: _S.HANDLED_ELSEWHERE,
        _A.WITHDRAW: _S.WITHDRAWN,
    },
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
    _S.EXHAUSTED: {
        _A.REOFFER: _S.OFFERED,
        _A.HANDLE_ELSEWHERE: _S.HANDLED_ELSEWHERE,
        _A.WITHDRAW: _S.WITHDRAWN,
    },
    _S.WITHDRAWN: {},
    _S.HANDLED_ELSEWHERE: {},
}
