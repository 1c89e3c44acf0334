"""The acknowledgement links' SQL: every link used, with what it did."""

import uuid
from datetime import datetime

import asyncpg

from eventkit.links import LinkClaims


async def used_link_result(conn: asyncpg.Connection, *, token_id: uuid.UUID) -> str | None:
    result: str | None = await conn.fetchval("SELECT result FROM used_links WHERE token_id = $1", token_id)
    return result


async def record_used_link(
    conn: asyncpg.Connection, claims: LinkClaims, *, used_at: datetime, result: str
) -> bool:
    """False if the link was used meanwhile (two clicks racing): the first one stands."""
    inserted = await conn.fetchval(
        """INSERT INTO used_links (token_id, referral_id, attempt, organisation_id, used_at, result)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (token_id) DO NOTHING RETURNING true""",
        claims.token_id,
        claims.referral_id,
        claims.attempt,
        claims.organisation_id,
        used_at,
        result,
    )
    return bool(inserted)
