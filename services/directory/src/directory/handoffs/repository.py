"""Handoffs' SQL: offers and how they ended, each organisation's record, and capacity holds.

Each write happens once per offer or hold (`ON CONFLICT`), so a redelivered event under a new id
changes nothing twice.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from directory.handoffs.domain import Offer
from directory.matching.domain import Performance


async def record_offer(conn: asyncpg.Connection, *, offer: Offer, at: datetime) -> bool:
    """The offer, and one more offered on the organisation's record if the offer is new: one
    statement (the count moves only through the offer's insert)."""
    inserted = await conn.fetchval(
        """WITH offer AS (
               INSERT INTO offers (referral_id, attempt, organisation_id, offered_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT DO NOTHING RETURNING organisation_id),
           counted AS (
               INSERT INTO performance (organisation_id, offered) SELECT organisation_id, 1 FROM offer
               ON CONFLICT (organisation_id) DO UPDATE
                  SET offered = performance.offered + 1, updated_at = now())
           SELECT EXISTS (SELECT 1 FROM offer)""",
        offer.referral_id,
        offer.attempt,
        offer.organisation_id,
        at,
    )
    return bool(inserted)


async def end_offer(conn: asyncpg.Connection, *, offer: Offer, ended: str) -> "OfferEnd":
    """Mark an offer's end, once."""
    row = await conn.fetchrow(
        """INSERT INTO offers (referral_id, attempt, organisation_id, offered_at, ended)
           VALUES ($1, $2, $3, now(), $4)
           ON CONFLICT (referral_id, attempt) DO UPDATE SET ended = EXCLUDED.ended
            WHERE offers.ended IS NULL
        RETURNING (xmax = 0) AS unseen, offered_at""",
        offer.referral_id,
        offer.attempt,
        offer.organisation_id,
        ended,
    )
    if row is None:
        return OfferEnd(first=False, offered_at=None)
    return OfferEnd(first=True, offered_at=None if row["unseen"] else row["offered_at"])


@dataclass(frozen=True)
class OfferEnd:
    first: bool  # False: this offer had ended before (a redelivery under a new event id)
    offered_at: datetime | None  # None when the offer itself was never seen


async def get_performance(conn: asyncpg.Connection, *, organisation_id: uuid.UUID) -> Performance | None:
    row = await conn.fetchrow(
        """SELECT offered, acknowledged, declined, expired, ack_score, mean_ack_seconds
             FROM performance WHERE organisation_id = $1""",
        organisation_id,
    )
    return Performance(**dict(row)) if row else None


async def save_performance(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, performance: Performance
) -> None:
    await conn.execute(
        """INSERT INTO performance (organisation_id, offered, acknowledged, declined, expired,
                                    ack_score, mean_ack_seconds)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (organisation_id) DO UPDATE
              SET offered = EXCLUDED.offered, acknowledged = EXCLUDED.acknowledged,
                  declined = EXCLUDED.declined, expired = EXCLUDED.expired,
                  ack_score = EXCLUDED.ack_score, mean_ack_seconds = EXCLUDED.mean_ack_seconds,
                  updated_at = now()""",
        organisation_id,
        performance.offered,
        performance.acknowledged,
        performance.declined,
        performance.expired,
        performance.ack_score,
        performance.mean_ack_seconds,
    )


async def hold_capacity(
    conn: asyncpg.Connection, *, offer: Offer, service_id: uuid.UUID, at: datetime
) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO capacity_holds (referral_id, organisation_id, service_id, held_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
        offer.referral_id,
        offer.organisation_id,
        service_id,
        at,
    )
    return bool(inserted)


async def release_capacity(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, organisation_id: uuid.UUID | None, at: datetime
) -> list[uuid.UUID]:
    """Release the referral's holds (one organisation's, or all); the services given a place back."""
    rows = await conn.fetch(
        """UPDATE capacity_holds SET released_at = $3
            WHERE referral_id = $1 AND ($2::uuid IS NULL OR organisation_id = $2) AND released_at IS NULL
        RETURNING service_id""",
        referral_id,
        organisation_id,
        at,
    )
    return [r["service_id"] for r in rows]
