"""notify's event edge: an offered handoff must be alerted; the attempt's fate updates the inbox."""

import asyncpg

from contracts.events import (
    Event,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    ReferralEscalated,
    ReferralWithdrawn,
)
from eventkit import telemetry
from eventkit.consumer import Handler, Message
from notify import service
from notify.domain import AlertState


async def on_handoff_offered(conn: asyncpg.Connection, event: HandoffOffered, message: Message) -> None:
    telemetry.tag(
        case_id=event.case_id,
        referral_id=event.referral_id,
        organisation_id=event.organisation.organisation_id,
    )
    # Idempotent by (referral, organisation, attempt) as well as by the inbox: a replayed or
    # re-published offer carries a new event id but must not alert the partner twice.
    await service.offer_handoff(conn, event)


async def on_handoff_acknowledged(
    conn: asyncpg.Connection, event: HandoffAcknowledged, message: Message
) -> None:
    telemetry.tag(case_id=event.case_id, referral_id=event.referral_id, organisation_id=event.organisation_id)
    await service.attempt_moved(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        state=AlertState.ACKNOWLEDGED,
        at=event.acknowledged_at,
    )


async def on_handoff_declined(conn: asyncpg.Connection, event: HandoffDeclined, message: Message) -> None:
    telemetry.tag(case_id=event.case_id, referral_id=event.referral_id, organisation_id=event.organisation_id)
    await service.attempt_moved(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        state=AlertState.DECLINED,
        at=event.declined_at,
    )


async def on_handoff_expired(conn: asyncpg.Connection, event: HandoffExpired, message: Message) -> None:
    telemetry.tag(case_id=event.case_id, referral_id=event.referral_id, organisation_id=event.organisation_id)
    await service.attempt_moved(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        state=AlertState.EXPIRED,
        at=event.expired_at,
    )


async def on_referral_escalated(conn: asyncpg.Connection, event: ReferralEscalated, message: Message) -> None:
    telemetry.tag(
        case_id=event.case_id, referral_id=event.referral_id, organisation_id=event.from_organisation_id
    )
    await service.attempt_moved(
        conn,
        referral_id=event.referral_id,
        attempt=event.from_attempt,
        state=AlertState.REASSIGNED,
        at=event.escalated_at,
    )


async def on_referral_withdrawn(conn: asyncpg.Connection, event: ReferralWithdrawn, message: Message) -> None:
    telemetry.tag(case_id=event.case_id, referral_id=event.referral_id)
    await service.attempt_moved(
        conn, referral_id=event.referral_id, attempt=None, state=AlertState.WITHDRAWN, at=event.withdrawn_at
    )


HANDLERS: dict[type[Event], Handler] = {
    HandoffOffered: on_handoff_offered,
    HandoffAcknowledged: on_handoff_acknowledged,
    HandoffDeclined: on_handoff_declined,
    HandoffExpired: on_handoff_expired,
    ReferralEscalated: on_referral_escalated,
    ReferralWithdrawn: on_referral_withdrawn,
}
