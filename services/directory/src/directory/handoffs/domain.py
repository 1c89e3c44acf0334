"""Following a handoff after the match: how an organisation answered its offer, and the place an
accepted one takes. Pure.

An organisation's record (`Performance`, which the ranking reads) moves with every offer that
ends: acknowledged, declined (an answer, neutral) or expired. An acknowledged handoff takes a
place from its service's capacity and its close gives it back; a decline for "no capacity" is
the partner's own report that the service is full.
"""

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.vocabulary import DeclineReason, OutcomeStage
from directory.matching.domain import Performance
from directory.register.domain import Capacity


class Answer(StrEnum):
    """How an offer ended."""

    ACKNOWLEDGED = "acknowledged"
    DECLINED = "declined"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Offer:
    """One offer of a referral to an organisation (the referral's attempt n)."""

    referral_id: uuid.UUID
    attempt: int
    organisation_id: uuid.UUID


ACK_SCORE_WEIGHT = 0.2


def next_ack_score(previous: float | None, acknowledged: bool) -> float:
    outcome = 1.0 if acknowledged else 0.0
    return outcome if previous is None else (1 - ACK_SCORE_WEIGHT) * previous + ACK_SCORE_WEIGHT * outcome


def performance_after(
    previous: Performance | None,
    answer: Answer,
    *,
    ack_seconds: float | None = None,
    offer_seen: bool = True,
) -> Performance:
    """The record after an offer ended: acknowledged, declined (an answer, neutral) or expired."""
    p = previous or Performance()
    if not offer_seen:
        # The offer itself was not seen (made before directory followed offers): count it too,
        # so that offered ≥ acknowledged + declined + expired always holds.
        p = dataclasses.replace(p, offered=p.offered + 1)
    if answer == Answer.ACKNOWLEDGED:
        mean = p.mean_ack_seconds
        if ack_seconds is not None:
            mean = (
                ack_seconds
                if mean is None
                else (1 - ACK_SCORE_WEIGHT) * mean + ACK_SCORE_WEIGHT * ack_seconds
            )
        return Performance(
            p.offered, p.acknowledged + 1, p.declined, p.expired, next_ack_score(p.ack_score, True), mean
        )
    if answer == Answer.EXPIRED:
        return Performance(
            p.offered,
            p.acknowledged,
            p.declined,
            p.expired + 1,
            next_ack_score(p.ack_score, False),
            p.mean_ack_seconds,
        )
    return Performance(p.offered, p.acknowledged, p.declined + 1, p.expired, p.ack_score, p.mean_ack_seconds)


def reports_full(reason: DeclineReason) -> bool:
    """A decline for "no capacity" comes from the partner itself: a report that it is full."""
    return reason is DeclineReason.NO_CAPACITY


def full_as_of(before: Capacity | None, at: datetime) -> Capacity:
    """The capacity a "no capacity" decline reports: none left as of `at`, the rest kept."""
    return Capacity(
        0,
        before.maximum if before else None,
        at,
        at,
        before.unit if before else "referrals",
        before.description if before else None,
    )


def gives_place_back(stage: OutcomeStage) -> bool:
    """A handoff's place is given back when it closes (or its referral is withdrawn)."""
    return stage is OutcomeStage.CLOSED
