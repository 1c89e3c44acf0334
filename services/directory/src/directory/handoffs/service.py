"""Handoffs' use cases: an offer made or ended moves the organisation's record; an accepted
handoff takes a place from its service's capacity, and gives it back when it closes.

Each runs inside the consumer's transaction for the event that reported it, once per offer.
"""

import uuid
from datetime import datetime

import asyncpg

from contracts.events import HandoffOutcomeRecorded
from contracts.vocabulary import DeclineReason
from directory.handoffs import repository
from directory.handoffs.domain import (
    Answer,
    Offer,
    full_as_of,
    gives_place_back,
    performance_after,
    reports_full,
)
from directory.matching import repository as matches
from directory.register import repository as register
from directory.register.changelog import Change

# Automatic capacity changes are logged as made by the referral lifecycle, not by a person.
BY = "referral"


async def offer_made(conn: asyncpg.Connection, *, offer: Offer, at: datetime) -> None:
    await repository.record_offer(conn, offer=offer, at=at)


async def _offer_ended(conn: asyncpg.Connection, *, offer: Offer, answer: Answer, at: datetime) -> bool:
    """Count the answer in the organisation's record, once; False if it was counted before."""
    ended = await repository.end_offer(conn, offer=offer, ended=answer.value)
    if not ended.first:
        return False
    seconds = (at - ended.offered_at).total_seconds() if ended.offered_at else None
    previous = await repository.get_performance(conn, organisation_id=offer.organisation_id)
    await repository.save_performance(
        conn,
        organisation_id=offer.organisation_id,
        performance=performance_after(
            previous, answer, ack_seconds=seconds, offer_seen=ended.offered_at is not None
        ),
    )
    return True


async def _service_of(conn: asyncpg.Connection, offer: Offer) -> uuid.UUID | None:
    """The service the organisation was offered the referral through (stored with the match)."""
    stored = await matches.get_match(conn, referral_id=offer.referral_id)
    found = stored.service_for(offer.organisation_id) if stored else None
    if found is None and await register.get_service(conn, service_id=offer.organisation_id) is not None:
        found = offer.organisation_id  # the organisation's main service shares its id
    return found


async def _adjust(
    conn: asyncpg.Connection, *, service_id: uuid.UUID, delta: int, at: datetime, why: str
) -> None:
    changed = await register.adjust_capacity(conn, service_id=service_id, delta=delta, at=at)
    if changed is not None and changed[0] != changed[1]:
        await register.log_changes(
            conn,
            [Change(service_id, "service_capacity", why, "available", str(changed[0]), str(changed[1]), BY)],
        )


async def handoff_acknowledged(conn: asyncpg.Connection, *, offer: Offer, at: datetime) -> None:
    await _offer_ended(conn, offer=offer, answer=Answer.ACKNOWLEDGED, at=at)
    service_id = await _service_of(conn, offer)
    if service_id is None:
        return
    taken = await repository.hold_capacity(conn, offer=offer, service_id=service_id, at=at)
    if taken:
        await _adjust(conn, service_id=service_id, delta=-1, at=at, why="handoff_accepted")


async def handoff_declined(
    conn: asyncpg.Connection, *, offer: Offer, reason: DeclineReason, at: datetime
) -> None:
    first = await _offer_ended(conn, offer=offer, answer=Answer.DECLINED, at=at)
    if not first or not reports_full(reason):
        return
    service_id = await _service_of(conn, offer)
    found = await register.get_service(conn, service_id=service_id, for_update=True) if service_id else None
    if found is None:
        return
    service = found[0]
    before = service.capacity
    await register.set_capacity(conn, service_id=service.id, capacity=full_as_of(before, at), updated_by=BY)
    await register.log_changes(
        conn,
        [
            Change(
                service.id,
                "service_capacity",
                "declined_no_capacity",
                "available",
                str(before.available) if before else "",
                "0",
                BY,
            )
        ],
    )


async def handoff_expired(conn: asyncpg.Connection, *, offer: Offer, at: datetime) -> None:
    await _offer_ended(conn, offer=offer, answer=Answer.EXPIRED, at=at)


async def _release(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, organisation_id: uuid.UUID | None, at: datetime
) -> None:
    for service_id in await repository.release_capacity(
        conn, referral_id=referral_id, organisation_id=organisation_id, at=at
    ):
        await _adjust(conn, service_id=service_id, delta=+1, at=at, why="handoff_closed")


async def outcome_recorded(conn: asyncpg.Connection, outcome: HandoffOutcomeRecorded) -> None:
    if gives_place_back(outcome.stage):
        await _release(
            conn,
            referral_id=outcome.referral_id,
            organisation_id=outcome.organisation_id,
            at=outcome.recorded_at,
        )


async def referral_withdrawn(conn: asyncpg.Connection, *, referral_id: uuid.UUID, at: datetime) -> None:
    await _release(conn, referral_id=referral_id, organisation_id=None, at=at)
