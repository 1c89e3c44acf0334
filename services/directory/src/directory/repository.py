"""directory's SQL: organisations in and out as domain objects, and the one row per match."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from contracts.vocabulary import Topic
from directory.domain import Organisation, OrganisationRecord, OrgType, area_keys

_COLUMNS = """id, name, org_type, coverage, topics, webhook_url, email, active,
              created_at, updated_at, updated_by"""


def _to_record(row: asyncpg.Record) -> OrganisationRecord:
    organisation = Organisation(
        id=row["id"],
        name=row["name"],
        org_type=OrgType(row["org_type"]),
        coverage=tuple(row["coverage"]),
        topics=tuple(Topic(t) for t in row["topics"]),
        webhook_url=row["webhook_url"],
        email=row["email"],
        active=row["active"],
    )
    return OrganisationRecord(
        organisation=organisation,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def _values(organisation: Organisation) -> tuple[Any, ...]:
    return (
        organisation.id,
        organisation.name,
        organisation.org_type.value,
        list(organisation.coverage),
        [t.value for t in organisation.topics],
        organisation.webhook_url,
        organisation.email,
        organisation.active,
    )


async def insert_organisation(
    conn: asyncpg.Connection, *, organisation: Organisation, updated_by: str
) -> OrganisationRecord | None:
    """Insert a new organisation; None if one with that id exists already."""
    row = await conn.fetchrow(
        f"""INSERT INTO organisations
                   (id, name, org_type, coverage, topics, webhook_url, email, active, updated_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (id) DO NOTHING
            RETURNING {_COLUMNS}""",
        *_values(organisation),
        updated_by,
    )
    return _to_record(row) if row else None


async def update_organisation(
    conn: asyncpg.Connection, *, organisation: Organisation, updated_by: str
) -> OrganisationRecord | None:
    """Replace every field of an existing organisation; None if there is none with that id."""
    row = await conn.fetchrow(
        f"""UPDATE organisations
               SET name = $2, org_type = $3, coverage = $4, topics = $5, webhook_url = $6,
                   email = $7, active = $8, updated_at = now(), updated_by = $9
             WHERE id = $1
         RETURNING {_COLUMNS}""",
        *_values(organisation),
        updated_by,
    )
    return _to_record(row) if row else None


async def deactivate_organisation(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, updated_by: str
) -> bool:
    """Soft delete; True if the organisation exists (deactivating twice is fine)."""
    found = await conn.fetchval(
        """UPDATE organisations
              SET active = false,
                  -- a repeated delete changes nothing, so it leaves the audit fields alone
                  updated_at = CASE WHEN active THEN now() ELSE updated_at END,
                  updated_by = CASE WHEN active THEN $2 ELSE updated_by END
            WHERE id = $1
        RETURNING true""",
        organisation_id,
        updated_by,
    )
    return bool(found)


async def get_organisation(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID
) -> OrganisationRecord | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM organisations WHERE id = $1", organisation_id)
    return _to_record(row) if row else None


async def list_organisations(
    conn: asyncpg.Connection,
    *,
    municipality_code: str | None,
    topic: Topic | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> list[OrganisationRecord]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM organisations
             WHERE ($1::text[] IS NULL OR coverage && $1::text[])
               AND ($2::text IS NULL OR cardinality(topics) = 0 OR $2 = ANY (topics))
               AND ($3::boolean IS NULL OR active = $3)
             ORDER BY name, id
             LIMIT $4 OFFSET $5""",
        list(area_keys(municipality_code)) if municipality_code else None,
        topic.value if topic else None,
        active,
        limit,
        offset,
    )
    return [_to_record(row) for row in rows]


async def find_organisations_covering(
    conn: asyncpg.Connection, *, municipality_code: str, include_inactive: bool = False
) -> list[Organisation]:
    """Organisations whose coverage reaches the municipality (exactly, by prefecture, or JP)."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM organisations
             WHERE coverage && $1::text[] AND (active OR $2)""",
        list(area_keys(municipality_code)),
        include_inactive,
    )
    return [_to_record(row).organisation for row in rows]


async def insert_match(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID,
    case_id: uuid.UUID,
    organisation_id: uuid.UUID | None,
    reasons: list[str],
    candidates: list[dict[str, Any]],
    matched_at: datetime,
    trace_id: str | None,
) -> bool:
    """Record the answer to a referral; False if it was answered before (nothing is written)."""
    inserted = await conn.fetchval(
        """INSERT INTO matches
                  (referral_id, case_id, organisation_id, reasons, candidates, matched_at, trace_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (referral_id) DO NOTHING
           RETURNING true""",
        referral_id,
        case_id,
        organisation_id,
        reasons,
        candidates,
        matched_at,
        trace_id,
    )
    return bool(inserted)


@dataclass(frozen=True)
class StoredMatch:
    referral_id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID | None
    reasons: list[str]
    candidates: list[dict[str, Any]]
    matched_at: datetime
    trace_id: str | None


async def get_match(conn: asyncpg.Connection, *, referral_id: uuid.UUID) -> StoredMatch | None:
    row = await conn.fetchrow(
        """SELECT referral_id, case_id, organisation_id, reasons, candidates, matched_at, trace_id
             FROM matches WHERE referral_id = $1""",
        referral_id,
    )
    return StoredMatch(**dict(row)) if row else None
