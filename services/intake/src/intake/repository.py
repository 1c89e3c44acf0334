"""intake's SQL. Personal fields arrive and leave encrypted; the service layer holds the keys."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class StoredConsultation:
    id: uuid.UUID
    channel: str
    topic: str
    municipality_code: str
    severity: str
    lawful_basis: str | None
    summary_enc: str
    contact_enc: str | None
    recorded_by: str
    recorded_at: datetime


_COLUMNS = """id, channel, topic, municipality_code, severity, lawful_basis, summary_enc,
              contact_enc, recorded_by, recorded_at"""


def _to_stored(row: asyncpg.Record) -> StoredConsultation:
    return StoredConsultation(**dict(row))


async def insert_consultation(
    conn: asyncpg.Connection, *, consultation: StoredConsultation, trace_id: str | None
) -> None:
    await conn.execute(
        f"""INSERT INTO consultations ({_COLUMNS}, trace_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        consultation.id,
        consultation.channel,
        consultation.topic,
        consultation.municipality_code,
        consultation.severity,
        consultation.lawful_basis,
        consultation.summary_enc,
        consultation.contact_enc,
        consultation.recorded_by,
        consultation.recorded_at,
        trace_id,
    )


async def get_consultation(
    conn: asyncpg.Connection, *, consultation_id: uuid.UUID
) -> StoredConsultation | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM consultations WHERE id = $1", consultation_id)
    return _to_stored(row) if row else None


async def list_consultations_by(
    conn: asyncpg.Connection, *, recorded_by: str, limit: int, before: datetime | None
) -> list[StoredConsultation]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM consultations
             WHERE recorded_by = $1 AND ($2::timestamptz IS NULL OR recorded_at < $2)
             ORDER BY recorded_at DESC LIMIT $3""",
        recorded_by,
        before,
        limit,
    )
    return [_to_stored(row) for row in rows]


async def claim_idempotency_key(
    conn: asyncpg.Connection,
    *,
    subject: str,
    key: str,
    request_hash: str,
    consultation_id: uuid.UUID,
) -> bool:
    """True if this request owns the key; False if an earlier request already claimed it."""
    claimed = await conn.fetchval(
        """INSERT INTO idempotency_keys (subject, key, request_hash, consultation_id)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
        subject,
        key,
        request_hash,
        consultation_id,
    )
    return bool(claimed)


async def find_idempotency_key(
    conn: asyncpg.Connection, *, subject: str, key: str
) -> tuple[str, uuid.UUID] | None:
    row = await conn.fetchrow(
        """SELECT request_hash, consultation_id FROM idempotency_keys
            WHERE subject = $1 AND key = $2""",
        subject,
        key,
    )
    return (row["request_hash"], row["consultation_id"]) if row else None
