"""The deliveries' SQL: one row per channel of an alert, leased to one sender at a time, and every
try. Functions that compare or set times take `now`: None means the database's clock, which every
sender then shares; tests pass a fixed time instead of sleeping."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from eventkit import outbox
from notify.deliveries.domain import Delivery, DeliveryStatus, DeliveryTry, NewDelivery

NOTIFY_CHANNEL = "deliveries"  # raised on every insert by a trigger: migrations/0006

_COLUMNS = """id, delivery_id, referral_id, case_id, organisation_id, attempt, channel, webhook_url,
              email_to, payload, status, tries, next_attempt_at, lease_until, last_error, trace_headers,
              created_at, delivered_at"""


_CLAIMED_COLUMNS = ", ".join(f"t.{column.strip()}" for column in _COLUMNS.split(","))


def _to_delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(**dict(row))


def insert_sql(first: int, *, when: str = "true") -> str:
    """The INSERT of `insert_args(deliveries)`, whose eleven parameters start at $`first`, for a CTE
    of the caller's statement; `when`, a condition of that statement, can hold them back."""
    n = first
    return f"""INSERT INTO deliveries (id, delivery_id, referral_id, case_id, organisation_id, attempt,
                                   channel, webhook_url, email_to, payload, trace_headers)
           SELECT * FROM unnest(${n}::uuid[], ${n + 1}::text[], ${n + 2}::uuid[], ${n + 3}::uuid[],
                                ${n + 4}::uuid[], ${n + 5}::int[], ${n + 6}::text[], ${n + 7}::text[],
                                ${n + 8}::text[], ${n + 9}::jsonb[], ${n + 10}::jsonb[])
            WHERE {when}
           ON CONFLICT DO NOTHING"""


def insert_args(deliveries: Sequence[NewDelivery]) -> tuple[list[Any], ...]:
    return (
        [d.id for d in deliveries],
        [d.delivery_id for d in deliveries],
        [d.referral_id for d in deliveries],
        [d.case_id for d in deliveries],
        [d.organisation_id for d in deliveries],
        [d.attempt for d in deliveries],
        [d.channel.value for d in deliveries],
        [d.webhook_url for d in deliveries],
        [d.email_to for d in deliveries],
        [d.payload for d in deliveries],
        [d.trace_headers for d in deliveries],
    )


async def claim_due(
    conn: asyncpg.Connection, *, limit: int, lease_s: float, now: datetime | None = None
) -> list[Delivery]:
    """Lease due deliveries to this sender: pending ones whose time has come, and sending ones
    whose sender's lease ran out (it crashed mid-POST). SKIP LOCKED lets senders run side by side;
    each claim counts as a try, because a crashed sender may well have reached the partner."""
    # Two ordered index scans, not one scan of both partial indexes joined by OR: a bitmap scan
    # rechecks every dead entry a claimed row left in `deliveries_due` until vacuum comes (1.6 ms a
    # claim under load, the most expensive statement of a handoff); a plain index scan marks them
    # dead once and skips them after.
    rows = await conn.fetch(
        f"""WITH expired AS (
                   SELECT d.id, d.next_attempt_at FROM deliveries d
                    WHERE d.status = 'sending' AND d.lease_until < COALESCE($1::timestamptz, now())
                    ORDER BY d.lease_until LIMIT $2
                    FOR UPDATE OF d SKIP LOCKED),
                 pending AS (
                   SELECT d.id, d.next_attempt_at FROM deliveries d
                    WHERE d.status = 'pending' AND d.next_attempt_at <= COALESCE($1::timestamptz, now())
                    ORDER BY d.next_attempt_at LIMIT $2
                    FOR UPDATE OF d SKIP LOCKED),
                 due AS (
                   SELECT id FROM (SELECT * FROM expired UNION ALL SELECT * FROM pending) both_kinds
                    ORDER BY next_attempt_at LIMIT $2)
            UPDATE deliveries AS t
               SET status = 'sending',
                   lease_until = COALESCE($1::timestamptz, now()) + make_interval(secs => $3),
                   tries = t.tries + 1
              FROM due
             WHERE t.id = due.id
            RETURNING {_CLAIMED_COLUMNS}""",
        now,
        limit,
        lease_s,
    )
    return sorted((_to_delivery(row) for row in rows), key=lambda d: d.next_attempt_at)


async def record_attempt(
    conn: asyncpg.Connection,
    *,
    delivery_uuid: uuid.UUID,
    try_no: int,
    at: datetime,
    http_status: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    await conn.execute(
        """INSERT INTO delivery_attempts (delivery_id, try_no, at, http_status, error, duration_ms)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
        delivery_uuid,
        try_no,
        at,
        http_status,
        error,
        duration_ms,
    )


async def record_delivered(
    conn: asyncpg.Connection,
    *,
    delivery_uuid: uuid.UUID,
    try_no: int,
    at: datetime,
    http_status: int | None,
    duration_ms: int,
    delivered_at: datetime,
    events: outbox.Rows,
) -> bool:
    """A try the partner took, in one statement: the try's row, the delivery marked delivered and
    the events announcing it; False (the try recorded, nothing else) if the row had already ended
    (delivered or failed). A late success counts even if the lease had run out and the row went
    back to pending: the partner has it, and marking it delivered is what stops another POST."""
    delivered: bool = await conn.fetchval(
        f"""WITH tried AS (
                INSERT INTO delivery_attempts (delivery_id, try_no, at, http_status, error, duration_ms)
                VALUES ($1, $2, $3, $4, NULL, $5) ON CONFLICT DO NOTHING),
            delivered AS (
                UPDATE deliveries
                   SET status = 'delivered', delivered_at = $6, lease_until = NULL, last_error = NULL
                 WHERE id = $1 AND status IN ('pending', 'sending')
                RETURNING true),
            outboxed AS ({outbox.insert_sql(7, when="EXISTS (SELECT FROM delivered)")})
        SELECT EXISTS (SELECT FROM delivered)""",
        delivery_uuid,
        try_no,
        at,
        http_status,
        duration_ms,
        delivered_at,
        *events.args(),
    )
    if delivered:
        events.stage(conn)
    return delivered


async def schedule_retry(
    conn: asyncpg.Connection,
    *,
    delivery_uuid: uuid.UUID,
    tries: int,
    reason: str,
    delay_s: float,
    now: datetime | None = None,
) -> bool:
    """False if the lease was lost meanwhile (another sender took the row over): leave it be."""
    updated = await conn.fetchval(
        """UPDATE deliveries
              SET status = 'pending', lease_until = NULL, last_error = $3,
                  next_attempt_at = COALESCE($5::timestamptz, now()) + make_interval(secs => $4)
            WHERE id = $1 AND status = 'sending' AND tries = $2
        RETURNING true""",
        delivery_uuid,
        tries,
        reason,
        delay_s,
        now,
    )
    return bool(updated)


async def mark_failed(
    conn: asyncpg.Connection,
    *,
    delivery_uuid: uuid.UUID,
    tries: int,
    reason: str,
    now: datetime | None = None,
) -> datetime | None:
    """The failure time, or None if the lease was lost meanwhile."""
    failed_at: datetime | None = await conn.fetchval(
        """UPDATE deliveries
              SET status = 'failed', lease_until = NULL, last_error = $3
            WHERE id = $1 AND status = 'sending' AND tries = $2
        RETURNING COALESCE($4::timestamptz, now())""",
        delivery_uuid,
        tries,
        reason,
        now,
    )
    return failed_at


async def get_delivery(conn: asyncpg.Connection, *, delivery_id: str) -> Delivery | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM deliveries WHERE delivery_id = $1", delivery_id)
    return _to_delivery(row) if row else None


async def list_deliveries(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID | None,
    organisation_id: uuid.UUID | None,
    status: DeliveryStatus | None,
    limit: int,
) -> list[Delivery]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM deliveries
             WHERE ($1::uuid IS NULL OR referral_id = $1)
               AND ($2::uuid IS NULL OR organisation_id = $2)
               AND ($3::text IS NULL OR status = $3)
             ORDER BY created_at DESC, delivery_id
             LIMIT $4""",
        referral_id,
        organisation_id,
        status.value if status else None,
        limit,
    )
    return [_to_delivery(row) for row in rows]


async def list_attempts(conn: asyncpg.Connection, *, delivery_uuid: uuid.UUID) -> list[DeliveryTry]:
    rows = await conn.fetch(
        """SELECT try_no, at, http_status, error, duration_ms FROM delivery_attempts
            WHERE delivery_id = $1 ORDER BY try_no""",
        delivery_uuid,
    )
    return [DeliveryTry(**dict(row)) for row in rows]


async def channel_outcomes(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, organisation_id: uuid.UUID, attempt: int
) -> list[tuple[str, str, str | None]]:
    """(channel, status, last_error) of each delivery of the attempt."""
    rows = await conn.fetch(
        """SELECT channel, status, last_error FROM deliveries
            WHERE referral_id = $1 AND organisation_id = $2 AND attempt = $3 ORDER BY channel""",
        referral_id,
        organisation_id,
        attempt,
    )
    return [(row["channel"], row["status"], row["last_error"]) for row in rows]


async def cancel_pending(conn: asyncpg.Connection, *, referral_id: uuid.UUID, attempt: int | None) -> int:
    """Deliveries not yet sent of an attempt that has ended: there is nothing left to alert about."""
    result: str = await conn.execute(
        """UPDATE deliveries SET status = 'cancelled', lease_until = NULL
            WHERE referral_id = $1 AND ($2::int IS NULL OR attempt = $2) AND status = 'pending'""",
        referral_id,
        attempt,
    )
    return int(result.rsplit(" ", 1)[-1])


async def delivery_statuses(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, referral_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, int], dict[str, str]]:
    """For each (referral, attempt) of the organisation, its channels' statuses."""
    rows = await conn.fetch(
        """SELECT referral_id, attempt, channel, status FROM deliveries
            WHERE organisation_id = $1 AND referral_id = ANY($2::uuid[])""",
        organisation_id,
        referral_ids,
    )
    found: dict[tuple[uuid.UUID, int], dict[str, str]] = {}
    for row in rows:
        found.setdefault((row["referral_id"], row["attempt"]), {})[row["channel"]] = row["status"]
    return found


# The gauges of /metrics (eventkit.metrics.StateCount): counts only, never an id or an address.
async def count_by_status(pool: asyncpg.Pool) -> list[tuple[str, float]]:
    rows = await pool.fetch("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
    return [(row["status"], float(row["n"])) for row in rows]


async def count_recent_tries_by_outcome(pool: asyncpg.Pool) -> list[tuple[str, float]]:
    """Webhook POSTs of the last five minutes: answered 2xx, or failed (any other status, a timeout,
    a refused connection); both outcomes are always reported, so a rate can be taken."""
    row = await pool.fetchrow(
        """SELECT count(*) FILTER (WHERE error IS NULL AND http_status BETWEEN 200 AND 299) AS ok,
                  count(*) FILTER (WHERE NOT (error IS NULL AND http_status BETWEEN 200 AND 299)) AS failed
           FROM delivery_attempts WHERE at > now() - interval '5 minutes'"""
    )
    return [("ok", float(row["ok"])), ("failed", float(row["failed"]))] if row else []
