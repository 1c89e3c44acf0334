"""The register's search and its confirmations: the SQL.

One WHERE clause serves the page and its count, so that the total an operator reads is the number
of organisations the filters really find in the whole register.
"""

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from directory.curation.domain import RegisterQuery
from directory.register.domain import Organisation, Verification
from directory.register.rows import (
    ORGANISATION_AUDIT,
    ORGANISATION_COLUMNS,
    Audit,
    as_organisation,
    as_organisation_audit,
)

_WHERE = """
      ($1::text IS NULL
         OR strpos(lower(normalize(o.name || ' ' || coalesce(o.alternate_name, ''), NFKC)), $1) > 0
         OR o.id::text = $1 OR o.corporate_number = $1)
  AND ($2::boolean IS NULL OR o.active = $2)
  AND ($3::text IS NULL OR o.org_type = $3)
  AND ($4::boolean IS NULL
         OR $4 = (o.last_verified_at IS NULL OR o.last_verified_at < $5::timestamptz))
  AND ($6::text[] IS NULL AND $7::text IS NULL AND $8::text[] IS NULL AND $9::text IS NULL
       OR EXISTS (
         SELECT 1 FROM services s
          WHERE s.organisation_id = o.id
            AND ($6::text[] IS NULL OR s.coverage && $6::text[])
            AND ($7::text IS NULL OR EXISTS (
                  SELECT 1 FROM unnest(s.coverage) AS entry
                   WHERE entry = 'JP' OR left(entry, 2) = $7))
            AND ($8::text[] IS NULL OR s.capabilities @> $8::text[])
            AND ($9::text IS NULL OR cardinality(s.topics) = 0 OR $9 = ANY (s.topics))))"""


def _arguments(query: RegisterQuery, stale_before: datetime) -> tuple[Any, ...]:
    return (
        query.text,
        query.active,
        query.org_type.value if query.org_type else None,
        query.stale,
        stale_before,
        list(query.area) if query.area else None,
        query.prefecture,
        sorted(c.value for c in query.capabilities) or None,
        query.topic.value if query.topic else None,
    )


async def search(
    conn: asyncpg.Connection, *, query: RegisterQuery, stale_before: datetime, limit: int, offset: int
) -> tuple[list[tuple[Organisation, Audit]], int]:
    """A page of the organisations found, by name then id, and how many were found in all."""
    arguments = _arguments(query, stale_before)
    rows = await conn.fetch(
        f"""SELECT {ORGANISATION_COLUMNS}, {ORGANISATION_AUDIT}, count(*) OVER () AS total
              FROM organisations o
             WHERE {_WHERE}
             ORDER BY o.name, o.id
             LIMIT $10 OFFSET $11""",
        *arguments,
        limit,
        offset,
    )
    if rows:
        total: int = rows[0]["total"]
    else:
        # A page past the end: the window count has no row to ride on.
        total = await conn.fetchval(f"SELECT count(*) FROM organisations o WHERE {_WHERE}", *arguments)
    return [(as_organisation(r), as_organisation_audit(r)) for r in rows], total


async def set_verification(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, verification: Verification
) -> None:
    # Not an edit of the entry: updated_at/updated_by keep saying who last changed its content.
    await conn.execute(
        "UPDATE organisations SET last_verified_at = $2, last_verified_by = $3 WHERE id = $1",
        organisation_id,
        verification.at,
        verification.by,
    )
