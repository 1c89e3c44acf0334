"""HSDS's read-side SQL: services by area, organisation or term, and services at their offices."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from directory.register.domain import Location, Service
from directory.register.rows import LOCATION_COLUMNS, SERVICE_COLUMNS, as_location, as_service


async def list_services(
    conn: asyncpg.Connection,
    *,
    area: Sequence[str] | None,
    organisation_id: uuid.UUID | None,
    term: str | None,
    search: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Service], int]:
    rows = await conn.fetch(
        f"""SELECT {SERVICE_COLUMNS}, count(*) OVER () AS total
              FROM services s
             WHERE ($1::text[] IS NULL OR s.coverage && $1::text[])
               AND ($2::uuid IS NULL OR s.organisation_id = $2)
               AND ($3::text IS NULL OR $3 = ANY (s.topics) OR $3 = ANY (s.capabilities))
               AND ($4::text IS NULL OR strpos(s.name, $4) > 0)
             ORDER BY s.name, s.id
             LIMIT $5 OFFSET $6""",
        list(area) if area else None,
        organisation_id,
        term,
        search,
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else 0
    return [as_service(r) for r in rows], total


@dataclass(frozen=True)
class ServiceAtLocation:
    id: uuid.UUID
    service: Service
    location: Location
    organisation_name: str


async def find_service_at_locations(
    conn: asyncpg.Connection,
    *,
    municipality_codes: Sequence[str] | None,
    organisation_id: uuid.UUID | None,
    term: str | None,
    active_only: bool = True,
) -> list[ServiceAtLocation]:
    rows = await conn.fetch(
        f"""SELECT sl.id AS sal_id, {SERVICE_COLUMNS}, {LOCATION_COLUMNS}, o.name AS organisation_name
              FROM service_at_locations sl
              JOIN services s ON s.id = sl.service_id
              JOIN locations l ON l.id = sl.location_id
              JOIN organisations o ON o.id = s.organisation_id
             WHERE ($1::text[] IS NULL OR l.municipality_code = ANY ($1::text[]))
               AND ($2::uuid IS NULL OR o.id = $2)
               AND ($3::text IS NULL OR $3 = ANY (s.topics) OR $3 = ANY (s.capabilities))
               AND (NOT $4 OR (o.active AND s.status = 'active'))
             ORDER BY l.municipality_code, o.name, sl.id""",
        list(municipality_codes) if municipality_codes is not None else None,
        organisation_id,
        term,
        active_only,
    )
    return [
        ServiceAtLocation(r["sal_id"], as_service(r), as_location(r), r["organisation_name"]) for r in rows
    ]
