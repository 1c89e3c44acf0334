"""The partners' webhook signing secrets: they arrive and leave encrypted; the service holds the keys."""

import uuid
from datetime import datetime

import asyncpg

from notify.partners.domain import StoredSecrets


async def store_partner_secret(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, secret_enc: str, grace_s: int
) -> StoredSecrets:
    """Insert the organisation's first secret, or rotate: the old one signs on for `grace_s`."""
    row = await conn.fetchrow(
        """INSERT INTO partner_secrets AS s (organisation_id, secret_enc)
           VALUES ($1, $2)
           ON CONFLICT (organisation_id) DO UPDATE
              SET previous_secret_enc = s.secret_enc,
                  previous_valid_until = now() + make_interval(secs => $3),
                  secret_enc = EXCLUDED.secret_enc,
                  rotated_at = now()
           RETURNING secret_enc, previous_secret_enc, created_at, rotated_at""",
        organisation_id,
        secret_enc,
        float(grace_s),
    )
    assert row is not None
    return StoredSecrets(**dict(row))


async def get_partner_secrets(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, now: datetime | None = None
) -> StoredSecrets | None:
    row = await conn.fetchrow(
        """SELECT secret_enc,
                  CASE WHEN previous_valid_until > COALESCE($2::timestamptz, now())
                       THEN previous_secret_enc END AS previous_secret_enc,
                  created_at, rotated_at
             FROM partner_secrets WHERE organisation_id = $1""",
        organisation_id,
        now,
    )
    return StoredSecrets(**dict(row)) if row else None
