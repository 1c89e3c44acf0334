"""The register's SQL: organisations, services (and their capacity), offices and the change log.

Every function takes the caller's connection, so that a use case is one transaction; rows leave
as domain objects (`rows.py` maps them).
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from directory.register.changelog import Change
from directory.register.domain import Capacity, Location, Organisation, Service
from directory.register.rows import (
    LOCATION_COLUMNS,
    ORGANISATION_AUDIT,
    ORGANISATION_COLUMNS,
    SERVICE_AUDIT,
    SERVICE_COLUMNS,
    Audit,
    as_location,
    as_organisation,
    as_organisation_audit,
    as_service,
    as_service_audit,
    organisation_values,
    service_values,
)

# ---- organisations ---------------------------------------------------------------------------


async def insert_organisation(
    conn: asyncpg.Connection, *, organisation: Organisation, updated_by: str
) -> bool:
    """Insert a new organisation; False if one with that id exists already (nothing written)."""
    inserted = await conn.fetchval(
        """INSERT INTO organisations AS o
                  (id, name, org_type, webhook_url, email, active, description, alternate_name,
                   website, corporate_number, channels, portal_url, phone, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (id) DO NOTHING
           RETURNING true""",
        *organisation_values(organisation),
        updated_by,
    )
    return bool(inserted)


async def update_organisation(
    conn: asyncpg.Connection, *, organisation: Organisation, updated_by: str
) -> None:
    await conn.execute(
        """UPDATE organisations
              SET name = $2, org_type = $3, webhook_url = $4, email = $5, active = $6,
                  description = $7, alternate_name = $8, website = $9, corporate_number = $10,
                  channels = $11, portal_url = $12, phone = $13, updated_at = now(),
                  updated_by = $14
            WHERE id = $1""",
        *organisation_values(organisation),
        updated_by,
    )


async def get_organisation(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, for_update: bool = False
) -> tuple[Organisation, Audit] | None:
    columns = f"{ORGANISATION_COLUMNS}, {ORGANISATION_AUDIT}"
    row = await _by_id(conn, "organisations o", columns, organisation_id, for_update=for_update)
    return (as_organisation(row), as_organisation_audit(row)) if row else None


async def _by_id(
    conn: asyncpg.Connection, table: str, columns: str, row_id: uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    """The `columns` of the `table` row with that id, locked for the transaction when asked."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {columns} FROM {table} WHERE id = $1{lock}", row_id)


async def all_organisation_ids(conn: asyncpg.Connection) -> list[uuid.UUID]:
    return [r["id"] for r in await conn.fetch("SELECT id FROM organisations ORDER BY id")]


async def deactivate_organisation(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, updated_by: str
) -> bool | None:
    """Soft delete. None: no such organisation; True: deactivated now; False: it was already."""
    row = await conn.fetchrow(
        """UPDATE organisations o
              SET active = false,
                  -- a repeated delete changes nothing, so it leaves the audit fields alone
                  updated_at = CASE WHEN o.active THEN now() ELSE o.updated_at END,
                  updated_by = CASE WHEN o.active THEN $2 ELSE o.updated_by END
             FROM (SELECT active FROM organisations WHERE id = $1 FOR UPDATE) before
            WHERE o.id = $1
        RETURNING before.active AS was_active""",
        organisation_id,
        updated_by,
    )
    return None if row is None else bool(row["was_active"])


# ---- services and capacity --------------------------------------------------------------------


async def upsert_service(conn: asyncpg.Connection, *, service: Service, updated_by: str) -> None:
    await conn.execute(
        """INSERT INTO services AS s
                  (id, organisation_id, name, description, status, coverage, topics, capabilities,
                   languages, minimum_age, maximum_age, genders, residency, schedules,
                   capacity_available, capacity_maximum, capacity_unit, capacity_description,
                   capacity_updated, capacity_reported_at, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                   $18, $19, $20, $21)
           ON CONFLICT (id) DO UPDATE
              SET organisation_id = EXCLUDED.organisation_id, name = EXCLUDED.name,
                  description = EXCLUDED.description, status = EXCLUDED.status,
                  coverage = EXCLUDED.coverage, topics = EXCLUDED.topics,
                  capabilities = EXCLUDED.capabilities, languages = EXCLUDED.languages,
                  minimum_age = EXCLUDED.minimum_age, maximum_age = EXCLUDED.maximum_age,
                  genders = EXCLUDED.genders, residency = EXCLUDED.residency,
                  schedules = EXCLUDED.schedules,
                  capacity_available = EXCLUDED.capacity_available,
                  capacity_maximum = EXCLUDED.capacity_maximum,
                  capacity_unit = EXCLUDED.capacity_unit,
                  capacity_description = EXCLUDED.capacity_description,
                  capacity_updated = EXCLUDED.capacity_updated,
                  capacity_reported_at = EXCLUDED.capacity_reported_at,
                  updated_at = now(), updated_by = EXCLUDED.updated_by""",
        *service_values(service),
        updated_by,
    )


async def get_service(
    conn: asyncpg.Connection, *, service_id: uuid.UUID, for_update: bool = False
) -> tuple[Service, Audit] | None:
    columns = f"{SERVICE_COLUMNS}, {SERVICE_AUDIT}"
    row = await _by_id(conn, "services s", columns, service_id, for_update=for_update)
    return (as_service(row), as_service_audit(row)) if row else None


async def services_of(conn: asyncpg.Connection, *, organisation_ids: Sequence[uuid.UUID]) -> list[Service]:
    rows = await conn.fetch(
        f"""SELECT {SERVICE_COLUMNS} FROM services s
             WHERE s.organisation_id = ANY ($1::uuid[]) ORDER BY s.organisation_id, s.id""",
        list(organisation_ids),
    )
    return [as_service(r) for r in rows]


async def set_capacity(
    conn: asyncpg.Connection, *, service_id: uuid.UUID, capacity: Capacity, updated_by: str
) -> None:
    await conn.execute(
        """UPDATE services
              SET capacity_available = $2, capacity_maximum = $3, capacity_unit = $4,
                  capacity_description = $5, capacity_updated = $6, capacity_reported_at = $7,
                  updated_at = now(), updated_by = $8
            WHERE id = $1""",
        service_id,
        capacity.available,
        capacity.maximum,
        capacity.unit,
        capacity.description,
        capacity.updated,
        capacity.reported_at,
        updated_by,
    )


async def adjust_capacity(
    conn: asyncpg.Connection, *, service_id: uuid.UUID, delta: int, at: datetime
) -> tuple[int, int] | None:
    """Add `delta` to a reported capacity, kept within 0..maximum; (before, after) or None if unreported.

    Leaves `capacity_reported_at` alone: an automatic adjustment is not a fresh report, so a
    figure nobody has confirmed for a day still goes stale.
    """
    row = await conn.fetchrow(
        """UPDATE services s
              SET capacity_available = GREATEST(0, LEAST(
                      s.capacity_available + $2, coalesce(s.capacity_maximum, s.capacity_available + $2))),
                  capacity_updated = $3
             FROM (SELECT id, capacity_available FROM services WHERE id = $1 FOR UPDATE) before
            WHERE s.id = before.id AND s.capacity_available IS NOT NULL
        RETURNING before.capacity_available AS before, s.capacity_available AS after""",
        service_id,
        delta,
        at,
    )
    return (row["before"], row["after"]) if row else None


# ---- locations --------------------------------------------------------------------------------


async def upsert_location(conn: asyncpg.Connection, *, location: Location, updated_by: str) -> None:
    await conn.execute(
        """INSERT INTO locations (id, organisation_id, name, location_type, municipality_code,
                                 postal_code, address, latitude, longitude, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (id) DO UPDATE
              SET organisation_id = EXCLUDED.organisation_id, name = EXCLUDED.name,
                  location_type = EXCLUDED.location_type,
                  municipality_code = EXCLUDED.municipality_code,
                  postal_code = EXCLUDED.postal_code, address = EXCLUDED.address,
                  latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
                  updated_at = now(), updated_by = EXCLUDED.updated_by""",
        location.id,
        location.organisation_id,
        location.name,
        location.location_type,
        location.municipality_code,
        location.postal_code,
        location.address,
        location.latitude,
        location.longitude,
        updated_by,
    )
    # The links are replaced as a whole: the location's service list is what the caller sent.
    await conn.execute("DELETE FROM service_at_locations WHERE location_id = $1", location.id)
    await conn.executemany(
        "INSERT INTO service_at_locations (id, service_id, location_id) VALUES ($1, $2, $3)",
        [(uuid.uuid5(location.id, str(sid)), sid, location.id) for sid in location.service_ids],
    )


async def get_location(conn: asyncpg.Connection, *, location_id: uuid.UUID) -> Location | None:
    row = await _by_id(conn, "locations l", LOCATION_COLUMNS, location_id)
    return as_location(row) if row else None


async def locations_of(conn: asyncpg.Connection, *, organisation_ids: Sequence[uuid.UUID]) -> list[Location]:
    rows = await conn.fetch(
        f"""SELECT {LOCATION_COLUMNS} FROM locations l
             WHERE l.organisation_id = ANY ($1::uuid[]) ORDER BY l.organisation_id, l.id""",
        list(organisation_ids),
    )
    return [as_location(r) for r in rows]


# ---- metadata (HSDS): who changed what --------------------------------------------------------


async def log_changes(conn: asyncpg.Connection, changes: Sequence[Change]) -> None:
    if not changes:
        return
    await conn.executemany(
        """INSERT INTO change_log (resource_id, resource_type, last_action_type, field_name,
                                  previous_value, replacement_value, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [
            (
                c.resource_id,
                c.resource_type,
                c.action,
                c.field_name,
                c.previous_value,
                c.replacement_value,
                c.updated_by,
            )
            for c in changes
        ],
    )


async def changes_of(conn: asyncpg.Connection, *, resource_ids: Sequence[uuid.UUID]) -> list[Change]:
    rows = await conn.fetch(
        """SELECT resource_id, resource_type, last_action_type, field_name, previous_value,
                  replacement_value, updated_by, last_action_date
             FROM change_log WHERE resource_id = ANY ($1::uuid[]) ORDER BY id""",
        list(resource_ids),
    )
    return [
        Change(
            r["resource_id"],
            r["resource_type"],
            r["last_action_type"],
            r["field_name"],
            r["previous_value"],
            r["replacement_value"],
            r["updated_by"],
            r["last_action_date"],
        )
        for r in rows
    ]
