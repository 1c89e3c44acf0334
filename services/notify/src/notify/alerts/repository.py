"""The alerts' SQL: one row per offered attempt, its state in the inbox, and whether its failure
was announced. Times set here take `now`; None means the database's clock."""

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from notify.alerts.domain import (
    ALERT_TRANSITIONS,
    Alert,
    AlertState,
    AttemptMoved,
    NewAlert,
    StepRecorded,
)
from notify.deliveries import repository as delivery_rows
from notify.deliveries.domain import NewDelivery

_ALERT_COLUMNS = """id, alert_key, referral_id, case_id, organisation_id, attempt, topic, municipality_code,
                    severity, need_tags, age_band, language, channels, offered_at, deadline_at, state,
                    state_at, delivery_failed_at, accompanied_to, outcome"""


def _to_alert(row: asyncpg.Record) -> Alert:
    return Alert(**dict(row))


async def insert_alert(
    conn: asyncpg.Connection,
    *,
    alert: NewAlert,
    deliveries: Sequence[NewDelivery],
    now: datetime | None = None,
) -> bool:
    """The alert and its deliveries, in one statement; True if this is a new alert, False (and
    nothing written) if (referral, organisation, attempt) exists already."""
    # A portal-only alert has no deliveries: no INSERT on them either, whose trigger would wake
    # the senders for nothing.
    queue = delivery_rows.insert_sql(17, when="EXISTS (SELECT FROM inserted)") if deliveries else "SELECT"
    inserted = await conn.fetchval(
        f"""WITH inserted AS (
                INSERT INTO alerts (id, alert_key, referral_id, case_id, organisation_id, attempt, topic,
                                    municipality_code, severity, need_tags, age_band, language, channels,
                                    offered_at, deadline_at, state_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                        COALESCE($16::timestamptz, now()))
                ON CONFLICT DO NOTHING RETURNING true),
            queued AS ({queue})
        SELECT EXISTS (SELECT FROM inserted)""",
        alert.id,
        alert.alert_key,
        alert.referral_id,
        alert.case_id,
        alert.organisation_id,
        alert.attempt,
        alert.topic,
        alert.municipality_code,
        alert.severity,
        list(alert.need_tags),
        alert.age_band,
        alert.language,
        [channel.value for channel in alert.channels],
        alert.offered_at,
        alert.deadline_at,
        now,
        *(delivery_rows.insert_args(deliveries) if deliveries else ()),
    )
    return bool(inserted)


async def lock_alert(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, organisation_id: uuid.UUID, attempt: int
) -> Alert | None:
    """Serialises the channels of one attempt deciding whether all of them failed."""
    row = await conn.fetchrow(
        f"""SELECT {_ALERT_COLUMNS} FROM alerts
             WHERE referral_id = $1 AND organisation_id = $2 AND attempt = $3 FOR UPDATE""",
        referral_id,
        organisation_id,
        attempt,
    )
    return _to_alert(row) if row else None


async def mark_alert_delivery_failed(
    conn: asyncpg.Connection, *, alert_id: uuid.UUID, now: datetime | None
) -> bool:
    """True the first time only: one failure event per attempt."""
    updated = await conn.fetchval(
        """UPDATE alerts SET delivery_failed_at = COALESCE($2::timestamptz, now())
            WHERE id = $1 AND delivery_failed_at IS NULL RETURNING true""",
        alert_id,
        now,
    )
    return bool(updated)


async def move_alerts(conn: asyncpg.Connection, move: AttemptMoved) -> int:
    """Move the attempt's alert (or all the referral's, for attempt None) to `move.state`, from the
    states the transition allows; a late or repeated event moves nothing."""
    allowed = [s.value for s in ALERT_TRANSITIONS[move.state]]
    moved: list[asyncpg.Record] = await conn.fetch(
        """UPDATE alerts SET state = $3, state_at = $4
            WHERE referral_id = $1 AND ($2::int IS NULL OR attempt = $2) AND state = ANY($5::text[])
        RETURNING attempt""",
        move.referral_id,
        move.attempt,
        move.state.value,
        move.at,
        allowed,
    )
    return len(moved)


async def record_step(conn: asyncpg.Connection, step: StepRecorded) -> int:
    """The accepting organisation's alert moves to the handoff's new step (from the states the
    transition allows: a late or repeated event moves nothing)."""
    allowed = [s.value for s in ALERT_TRANSITIONS[step.step]]
    status: str = await conn.execute(
        """UPDATE alerts SET state = $3, state_at = $4,
                  accompanied_to = COALESCE($5, accompanied_to), outcome = COALESCE($6, outcome)
            WHERE referral_id = $1 AND organisation_id = $2 AND state = ANY($7::text[])""",
        step.referral_id,
        step.organisation_id,
        step.step.value,
        step.at,
        step.accompanied_to,
        step.outcome,
        allowed,
    )
    return int(status.rsplit(" ", 1)[-1])


async def inbox(
    conn: asyncpg.Connection,
    *,
    organisation_id: uuid.UUID,
    state: AlertState | None,
    referral_id: uuid.UUID | None,
    limit: int,
) -> list[Alert]:
    rows = await conn.fetch(
        f"""SELECT {_ALERT_COLUMNS} FROM alerts
             WHERE organisation_id = $1 AND ($2::text IS NULL OR state = $2)
               AND ($3::uuid IS NULL OR referral_id = $3)
             ORDER BY offered_at DESC, id LIMIT $4""",
        organisation_id,
        state.value if state else None,
        referral_id,
        limit,
    )
    return [_to_alert(row) for row in rows]
