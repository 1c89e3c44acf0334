"""retention's SQL: personal data removed after the retention period, and sealed values re-encrypted.

It reaches across intake's tables on purpose: it is the one place that forgets personal data.
"""

import uuid
from datetime import datetime

import asyncpg

from intake.sealing import SealedColumn


async def purge_closed_consultations(
    conn: asyncpg.Connection, *, closed_before: datetime, at: datetime
) -> list[uuid.UUID]:
    """Remove the personal data of consultations closed before the cut-off; codes, severity,
    risk answers and decisions stay for statistics."""
    rows = await conn.fetch(
        """UPDATE consultations SET summary_enc = NULL, contact_enc = NULL, purged_at = $2
            WHERE closed_at < $1 AND purged_at IS NULL RETURNING id, call_leg_id, chat_id""",
        closed_before,
        at,
    )
    ids = [r["id"] for r in rows]
    if not ids:
        return []
    await conn.execute(
        "UPDATE consultation_revisions SET before_enc = NULL WHERE consultation_id = ANY($1::uuid[])", ids
    )
    await conn.execute(
        "UPDATE severity_decisions SET reason_enc = NULL WHERE consultation_id = ANY($1::uuid[])", ids
    )
    return ids


async def purge_call_legs(
    conn: asyncpg.Connection, *, consultation_ids: list[uuid.UUID], stale_before: datetime, at: datetime
) -> int:
    """Caller numbers of purged consultations, and of calls never completed into one in time."""
    result: str = await conn.execute(
        """UPDATE call_legs SET caller_enc = NULL, purged_at = $3
            WHERE purged_at IS NULL
              AND (consultation_id = ANY($1::uuid[]) OR (consultation_id IS NULL AND started_at < $2))""",
        consultation_ids,
        stale_before,
        at,
    )
    return int(result.rsplit(" ", 1)[-1])


async def purge_chats(
    conn: asyncpg.Connection, *, consultation_ids: list[uuid.UUID], stale_before: datetime, at: datetime
) -> int:
    """Transcripts and LINE user ids of purged consultations, and of chats abandoned long ago."""
    rows = await conn.fetch(
        """UPDATE chats SET user_enc = NULL, user_ref = NULL, consent = NULL, purged_at = $3
            WHERE purged_at IS NULL
              AND (consultation_id = ANY($1::uuid[])
                   OR (consultation_id IS NULL AND last_activity_at < $2))
          RETURNING id""",
        consultation_ids,
        stale_before,
        at,
    )
    ids = [r["id"] for r in rows]
    if ids:
        # Stale chats that were never closed are closed now: nobody is left to answer them.
        await conn.execute(
            """UPDATE chats SET state = 'closed', closed_at = $2, closed_reason = 'expired'
                WHERE id = ANY($1::uuid[]) AND state <> 'closed'""",
            ids,
            at,
        )
        await conn.execute("UPDATE chat_messages SET text_enc = NULL WHERE chat_id = ANY($1::uuid[])", ids)
    return len(ids)


async def count_sealed_not_under(conn: asyncpg.Connection, *, column: SealedColumn, key_id: str) -> int:
    count: int = await conn.fetchval(
        f"""SELECT count(*) FROM {column.table}
             WHERE {column.column} IS NOT NULL AND split_part({column.column}, '.', 2) <> $1""",
        key_id,
    )
    return count


async def lock_sealed_batch(
    conn: asyncpg.Connection, *, column: SealedColumn, key_id: str, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Values under another key than `key_id`, locked until the caller's transaction ends."""
    rows = await conn.fetch(
        f"""SELECT id, {column.column} AS value FROM {column.table}
             WHERE {column.column} IS NOT NULL AND split_part({column.column}, '.', 2) <> $1
             ORDER BY id LIMIT $2 FOR UPDATE""",
        key_id,
        limit,
    )
    return [(r["id"], r["value"]) for r in rows]


async def store_sealed(
    conn: asyncpg.Connection, *, column: SealedColumn, values: list[tuple[uuid.UUID, str]]
) -> None:
    await conn.executemany(
        f"UPDATE {column.table} SET {column.column} = $2 WHERE id = $1",
        values,
    )


async def lock_plain_risk_batch(
    conn: asyncpg.Connection, *, column: SealedColumn, plain: str, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Values of `column` still in the plain JSON column `plain` (written before migration 0005),
    locked until the caller's transaction ends."""
    rows = await conn.fetch(
        f"""SELECT id, {plain}::text AS plain FROM {column.table}
             WHERE {plain} IS NOT NULL ORDER BY id LIMIT $1 FOR UPDATE""",
        limit,
    )
    return [(r["id"], r["plain"]) for r in rows]


async def store_sealed_risk(
    conn: asyncpg.Connection, *, column: SealedColumn, plain: str, values: list[tuple[uuid.UUID, str]]
) -> None:
    await conn.executemany(
        f"UPDATE {column.table} SET {column.column} = $2, {plain} = NULL WHERE id = $1", values
    )


async def lock_revisions_with_plain_risk(
    conn: asyncpg.Connection, *, limit: int
) -> list[tuple[uuid.UUID, str, str | None]]:
    """Revisions whose plain `before` still holds a risk assessment (written before migration
    0005), with that assessment and their sealed values, locked."""
    rows = await conn.fetch(
        """SELECT id, (before -> 'risk')::text AS risk, before_enc FROM consultation_revisions
            WHERE before ? 'risk' ORDER BY id LIMIT $1 FOR UPDATE""",
        limit,
    )
    return [(r["id"], r["risk"], r["before_enc"]) for r in rows]


async def store_revision_risk_sealed(
    conn: asyncpg.Connection, *, values: list[tuple[uuid.UUID, str | None]]
) -> None:
    await conn.executemany(
        "UPDATE consultation_revisions SET before = before - 'risk', before_enc = $2 WHERE id = $1", values
    )
