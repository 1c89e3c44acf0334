"""notify's event edge: each event becomes a fact (an offer) or plain arguments (an attempt's fate)
for the alerts' service. An offered handoff must be alerted; the attempt's fate, and after its
acceptance each outcome step, updates the inbox.
Spans are tagged with the event's ids by the consumer."""

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
from eventkit.consumer import Handler, Message
from notify.alerts import service
from notify.alerts.domain import AlertState, Offer


def offer_of(event: HandoffOffered) -> Offer:
    """The offer as the alerts see it: where and how to alert, and the case's codes."""
    organisation = event.organisation
    return Offer(
        case_id=event.case_id,
        referral_id=event.referral_id,
        attempt=event.attempt,
        organisation_id=organisation.organisation_id,
        webhook_url=organisation.webhook_url,
        email=organisation.email,
        channels=organisation.channels,
        topic=event.topic,
        municipality_code=event.municipality_code,
        severity=event.severity,
        need_tags=event.need_tags,
        age_band=event.age_band,
        language=event.language,
        offered_at=event.offered_at,
        deadline_at=event.deadline_at,
    )


async def on_handoff_offered(conn: asyncpg.Connection, event: HandoffOffered, message: Message) -> None:
    # Idempotent by (referral, organisation, attempt) as well as by the inbox: a replayed or
    # re-published offer carries a new event id but must not alert the partner twice.
    await service.offer_handoff(conn, offer_of(event))


async def on_handoff_acknowledged(
    conn: asyncpg.Connection, event: HandoffAcknowledged, message: Message
) -> None:
    await service.attempt_moved(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        state=AlertState.ACKNOWLEDGED,
        at=event.acknowledged_at,
    )


async def on_handoff_declined(conn: asyncpg.Connection, event: HandoffDeclined, message: Message) -> None:
    await service.attempt_moved(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        state=AlertState.DECLINED,
        at=event.declined_at,
    )


async def on_handoff_expired(conn: asyncpg.Connection, event: HandoffExpired, message: Message) -> None:
    await service.attempt_moved(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        state=AlertState.EXPIRED,
        at=event.expired_at,
    )


async def on_referral_escalated(conn: asyncpg.Connection, event: ReferralEscalated, message: Message) -> None:
    await service.attempt_moved(
        conn,
        referral_id=event.referral_id,
        attempt=event.from_attempt,
        state=AlertState.REASSIGNED,
        at=event.escalated_at,
    )


async def on_referral_withdrawn(conn: asyncpg.Connection, event: ReferralWithdrawn, message: Message) -> None:
    await service.attempt_moved(
        conn, referral_id=event.referral_id, attempt=None, state=AlertState.WITHDRAWN, at=event.withdrawn_at
    )


async def on_handoff_outcome_recorded(
    conn: asyncpg.Connection, event: HandoffOutcomeRecorded, message: Message
) -> None:
    await service.step_recorded(
        conn,
        referral_id=event.referral_id,
        organisation_id=event.organisation_id,
        stage=event.stage,
        accompanied_to=event.accompanied_to,
        outcome=event.outcome.value if event.outcome else None,
        at=event.recorded_at,
    )


HANDLERS: dict[type[Event], Handler] = {
    HandoffOffered: on_handoff_offered,
    HandoffAcknowledged: on_handoff_acknowledged,
    HandoffDeclined: on_handoff_declined,
    HandoffExpired: on_handoff_expired,
    ReferralEscalated: on_referral_escalated,
    ReferralWithdrawn: on_referral_withdrawn,
    HandoffOutcomeRecorded: on_handoff_outcome_recorded,
}
