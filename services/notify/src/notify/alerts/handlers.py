"""notify's event edge: each event becomes a fact (an offer, an attempt moved on, a step recorded)
for the alerts' service. An offered handoff must be alerted; the attempt's fate, and after its
acceptance each outcome step, updates the inbox.
Spans are tagged with the event's ids by the consumer."""

from datetime import datetime

import asyncpg

from contracts.events import (
    Event,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    HandoffOutcomeRecorded,
    ReferralEscalated,
    ReferralWithdrawn,
)
from eventkit import build
from eventkit.consumer import Handler, Message
from notify.alerts import service
from notify.alerts.domain import AlertState, AttemptMoved, Offer, StepRecorded


def offer_of(event: HandoffOffered) -> Offer:
    """The offer as the alerts see it: the event's codes, and where and how to alert the
    organisation (its own channels)."""
    organisation = event.organisation
    return build.from_attributes(
        Offer,
        event,
        organisation_id=organisation.organisation_id,
        webhook_url=organisation.webhook_url,
        email=organisation.email,
        channels=organisation.channels,
    )


async def on_handoff_offered(conn: asyncpg.Connection, event: HandoffOffered, message: Message) -> None:
    # Idempotent by (referral, organisation, attempt) as well as by the inbox: a replayed or
    # re-published offer carries a new event id but must not alert the partner twice.
    await service.offer_handoff(conn, offer_of(event))


AttemptFate = HandoffAcknowledged | HandoffDeclined | HandoffExpired | ReferralEscalated | ReferralWithdrawn


def fate_of(event: AttemptFate) -> tuple[int | None, AlertState, datetime]:
    """Which attempt the referral moved on (None: all of them), to which state, and when."""
    match event:
        case HandoffAcknowledged():
            return event.attempt, AlertState.ACKNOWLEDGED, event.acknowledged_at
        case HandoffDeclined():
            return event.attempt, AlertState.DECLINED, event.declined_at
        case HandoffExpired():
            return event.attempt, AlertState.EXPIRED, event.expired_at
        case ReferralEscalated():
            return event.from_attempt, AlertState.REASSIGNED, event.escalated_at
        case ReferralWithdrawn():
            return None, AlertState.WITHDRAWN, event.withdrawn_at


async def on_attempt_fate(conn: asyncpg.Connection, event: AttemptFate, message: Message) -> None:
    attempt, state, at = fate_of(event)
    await service.attempt_moved(conn, AttemptMoved(event.referral_id, attempt, state, at))


def step_of(event: HandoffOutcomeRecorded) -> StepRecorded:
    """The step as the inbox keeps it: the event's own fields, its outcome as a code."""
    outcome = event.outcome.value if event.outcome else None
    return build.from_attributes(StepRecorded, event, outcome=outcome, at=event.recorded_at)


async def on_handoff_outcome_recorded(
    conn: asyncpg.Connection, event: HandoffOutcomeRecorded, message: Message
) -> None:
    await service.step_recorded(conn, step_of(event))


HANDLERS: dict[type[Event], Handler] = {
    HandoffOffered: on_handoff_offered,
    HandoffAcknowledged: on_attempt_fate,
    HandoffDeclined: on_attempt_fate,
    HandoffExpired: on_attempt_fate,
    ReferralEscalated: on_attempt_fate,
    ReferralWithdrawn: on_attempt_fate,
    HandoffOutcomeRecorded: on_handoff_outcome_recorded,
}
