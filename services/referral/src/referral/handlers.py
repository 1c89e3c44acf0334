"""referral's event edge: translate each event into a domain fact and hand it to the service."""

import logging
import uuid

import asyncpg

from contracts.events import (
    ConsultationRecorded,
    Event,
    HandoffDeliveryFailed,
    HandoffNotified,
    ReferralMatched,
    ReferralUnmatched,
)
from eventkit import telemetry
from eventkit.consumer import Handler, Message, PermanentFailure
from referral import service
from referral.domain import DeliveryFailed, Fact, Matched, Notified, Unmatched

log = logging.getLogger(__name__)


def _actor(event: Event) -> str:
    # "/tsunagu/directory" → "directory": the service that reported the fact.
    return type(event).SOURCE.rstrip("/").rsplit("/", 1)[-1]


async def on_consultation_recorded(
    conn: asyncpg.Connection, event: ConsultationRecorded, message: Message
) -> None:
    telemetry.tag(case_id=event.case_id)
    referral = await service.open_referral(conn, event=event, event_id=message.envelope.event_id)
    if referral is not None:
        telemetry.tag(referral_id=referral.id)
        log.info("opened referral %s for case %s", referral.id, event.case_id)


async def _record(
    conn: asyncpg.Connection,
    event: Event,
    message: Message,
    *,
    referral_id: uuid.UUID,
    fact: Fact,
    organisation_id: uuid.UUID | None,
) -> None:
    telemetry.tag(case_id=event.case_id, referral_id=referral_id, organisation_id=organisation_id)
    try:
        referral = await service.record_fact(
            conn,
            referral_id=referral_id,
            case_id=event.case_id,
            fact=fact,
            actor=_actor(event),
            event_id=message.envelope.event_id,
        )
    except service.FactRejected as error:
        raise PermanentFailure(error.reason) from error
    log.info("referral %s is %s after %s", referral.id, referral.state.value, message.envelope.event_type)


async def on_referral_matched(conn: asyncpg.Connection, event: ReferralMatched, message: Message) -> None:
    fact = Matched(
        organisation_id=event.organisation.organisation_id,
        reasons=event.reasons,
        candidates=event.candidates,
        at=event.matched_at,
    )
    await _record(
        conn,
        event,
        message,
        referral_id=event.referral_id,
        fact=fact,
        organisation_id=event.organisation.organisation_id,
    )


async def on_referral_unmatched(conn: asyncpg.Connection, event: ReferralUnmatched, message: Message) -> None:
    fact = Unmatched(reasons=event.reasons, at=event.unmatched_at)
    await _record(conn, event, message, referral_id=event.referral_id, fact=fact, organisation_id=None)


async def on_handoff_notified(conn: asyncpg.Connection, event: HandoffNotified, message: Message) -> None:
    fact = Notified(organisation_id=event.organisation_id, attempt=event.attempt, at=event.notified_at)
    await _record(
        conn, event, message, referral_id=event.referral_id, fact=fact, organisation_id=event.organisation_id
    )


async def on_handoff_delivery_failed(
    conn: asyncpg.Connection, event: HandoffDeliveryFailed, message: Message
) -> None:
    fact = DeliveryFailed(
        organisation_id=event.organisation_id,
        attempt=event.attempt,
        reason=event.reason,
        at=event.failed_at,
    )
    await _record(
        conn, event, message, referral_id=event.referral_id, fact=fact, organisation_id=event.organisation_id
    )


HANDLERS: dict[type[Event], Handler] = {
    ConsultationRecorded: on_consultation_recorded,
    ReferralMatched: on_referral_matched,
    ReferralUnmatched: on_referral_unmatched,
    HandoffNotified: on_handoff_notified,
    HandoffDeliveryFailed: on_handoff_delivery_failed,
}
