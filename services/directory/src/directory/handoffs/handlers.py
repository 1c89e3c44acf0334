"""Handoffs' event edge: each handoff fact becomes the offer it is about, an answer and a time."""

import asyncpg

from contracts.events import (
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    HandoffOutcomeRecorded,
    ReferralWithdrawn,
)
from directory.handoffs import service
from directory.handoffs.domain import Offer
from eventkit.consumer import Message


def _offer(event: HandoffAcknowledged | HandoffDeclined | HandoffExpired) -> Offer:
    return Offer(event.referral_id, event.attempt, event.organisation_id)


async def on_handoff_offered(conn: asyncpg.Connection, event: HandoffOffered, message: Message) -> None:
    offer = Offer(event.referral_id, event.attempt, event.organisation.organisation_id)
    await service.offer_made(conn, offer=offer, at=event.offered_at)


async def on_handoff_acknowledged(
    conn: asyncpg.Connection, event: HandoffAcknowledged, message: Message
) -> None:
    await service.handoff_acknowledged(conn, offer=_offer(event), at=event.acknowledged_at)


async def on_handoff_declined(conn: asyncpg.Connection, event: HandoffDeclined, message: Message) -> None:
    await service.handoff_declined(conn, offer=_offer(event), reason=event.reason, at=event.declined_at)


async def on_handoff_expired(conn: asyncpg.Connection, event: HandoffExpired, message: Message) -> None:
    await service.handoff_expired(conn, offer=_offer(event), at=event.expired_at)


async def on_outcome_recorded(
    conn: asyncpg.Connection, event: HandoffOutcomeRecorded, message: Message
) -> None:
    await service.outcome_recorded(conn, event)


async def on_referral_withdrawn(conn: asyncpg.Connection, event: ReferralWithdrawn, message: Message) -> None:
    await service.referral_withdrawn(conn, referral_id=event.referral_id, at=event.withdrawn_at)
