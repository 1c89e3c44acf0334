"""directory's SQL: the register in and out as domain objects, matches, capacity and performance."""

import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from contracts.hours import Weekday, WeeklyRule, format_clock, parse_clock
from contracts.vocabulary import Gender, Topic
from directory.domain import (
    Capability,
    Capacity,
    Change,
    Channel,
    Eligibility,
    Listing,
    Location,
    Organisation,
    OrgType,
    Performance,
    Residency,
    Service,
    ServiceStatus,
)

# ---- organisations ---------------------------------------------------------------------------

_ORG_COLUMNS = """o.id, o.name, o.org_type, o.webhook_url, o.email, o.active, o.description,
                  o.alternate_name, o.website, o.corporate_number, o.channels, o.portal_url"""
_ORG_AUDIT = "o.created_at, o.updated_at, o.updated_by"


def _organisation(row: asyncpg.Record) -> Organisation:
    return Organisation(
        id=row["id"],
        name=row["name"],
        org_type=OrgType(row["org_type"]),
        webhook_url=row["webhook_url"],
        email=row["email"],
        active=row["active"],
        description=row["description"],
        alternate_name=row["alternate_name"],
        website=row["website"],
        corporate_number=row["corporate_number"],
        channels=tuple(Channel(c) for c in row["channels"]),
        portal_url=row["portal_url"],
    )


def _organisation_values(o: Organisation) -> tuple[Any, ...]:
    return (
        o.id,
        o.name,
        o.org_type.value,
        o.webhook_url,
        o.email,
        o.active,
        o.description,
        o.alternate_name,
        o.website,
        o.corporate_number,
        [c.value for c in o.channels],
        o.portal_url,
    )


@dataclass(frozen=True)
class Audit:
    created_at: datetime
    updated_at: datetime
    updated_by: str


async def insert_organisation(
    conn: asyncpg.Connection, *, organisation: Organisation, updated_by: str
) -> bool:
    """Insert a new organisation; False if one with that id exists already (nothing written)."""
    inserted = await conn.fetchval(
        """INSERT INTO organisations AS o
                  (id, name, org_type, webhook_url, email, active, description, alternate_name,
                   website, corporate_number, channels, portal_url, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           ON CONFLICT (id) DO NOTHING
           RETURNING true""",
        *_organisation_values(organisation),
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
                  channels = $11, portal_url = $12, updated_at = now(), updated_by = $13
            WHERE id = $1""",
        *_organisation_values(organisation),
        updated_by,
    )


async def get_organisation(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, for_update: bool = False
) -> tuple[Organisation, Audit] | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_ORG_COLUMNS}, {_ORG_AUDIT} FROM organisations o WHERE o.id = $1{lock}", organisation_id
    )
    if row is None:
        return None
    return _organisation(row), Audit(row["created_at"], row["updated_at"], row["updated_by"])


async def list_organisations(
    conn: asyncpg.Connection,
    *,
    area: Sequence[str] | None,
    topic: Topic | None,
    active: bool | None,
    search: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Organisation, Audit]], int]:
    """Organisations by name with the total count; filters look through their services."""
    rows = await conn.fetch(
        f"""SELECT {_ORG_COLUMNS}, {_ORG_AUDIT}, count(*) OVER () AS total
              FROM organisations o
             WHERE ($3::boolean IS NULL OR o.active = $3)
               AND ($4::text IS NULL OR strpos(o.name || ' ' || coalesce(o.alternate_name, ''), $4) > 0)
               AND ($1::text[] IS NULL AND $2::text IS NULL OR EXISTS (
                     SELECT 1 FROM services s
                      WHERE s.organisation_id = o.id
                        AND ($1::text[] IS NULL OR s.coverage && $1::text[])
                        AND ($2::text IS NULL OR cardinality(s.topics) = 0 OR $2 = ANY (s.topics))))
             ORDER BY o.name, o.id
             LIMIT $5 OFFSET $6""",
        list(area) if area else None,
        topic.value if topic else None,
        active,
        search,
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else await _count_organisations(conn, area, topic, active, search)
    return [(_organisation(r), Audit(r["created_at"], r["updated_at"], r["updated_by"])) for r in rows], total


async def _count_organisations(
    conn: asyncpg.Connection,
    area: Sequence[str] | None,
    topic: Topic | None,
    active: bool | None,
    search: str | None,
) -> int:
    # Only reached for a page past the end: the window count above has no row to ride on.
    count: int = await conn.fetchval(
        """SELECT count(*) FROM organisations o
            WHERE ($3::boolean IS NULL OR o.active = $3)
              AND ($4::text IS NULL OR strpos(o.name || ' ' || coalesce(o.alternate_name, ''), $4) > 0)
              AND ($1::text[] IS NULL AND $2::text IS NULL OR EXISTS (
                    SELECT 1 FROM services s
                     WHERE s.organisation_id = o.id
                       AND ($1::text[] IS NULL OR s.coverage && $1::text[])
                       AND ($2::text IS NULL OR cardinality(s.topics) = 0 OR $2 = ANY (s.topics))))""",
        list(area) if area else None,
        topic.value if topic else None,
        active,
        search,
    )
    return count


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


# ---- services ---------------------------------------------------------------------------------

_SERVICE_COLUMNS = """s.id AS service_id, s.organisation_id, s.name AS service_name,
    s.description AS service_description, s.status, s.coverage, s.topics, s.capabilities,
    s.languages, s.minimum_age, s.maximum_age, s.genders, s.residency, s.schedules,
    s.capacity_available, s.capacity_maximum, s.capacity_unit, s.capacity_description,
    s.capacity_updated, s.capacity_reported_at"""
_SERVICE_AUDIT = """s.created_at AS service_created_at, s.updated_at AS service_updated_at,
    s.updated_by AS service_updated_by"""


def schedule_to_json(rule: WeeklyRule) -> dict[str, Any]:
    return {
        "freq": "WEEKLY",
        "byday": ",".join(d.value for d in Weekday if d in rule.days),
        "opens_at": format_clock(rule.opens),
        "closes_at": format_clock(rule.closes),
        "valid_from": rule.valid_from.isoformat() if rule.valid_from else None,
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else None,
        "description": rule.description,
    }


def schedule_from_json(data: dict[str, Any]) -> WeeklyRule:
    return WeeklyRule(
        days=frozenset(Weekday(d) for d in data["byday"].split(",")),
        opens=parse_clock(data["opens_at"]),
        closes=parse_clock(data["closes_at"]),
        valid_from=date.fromisoformat(data["valid_from"]) if data.get("valid_from") else None,
        valid_to=date.fromisoformat(data["valid_to"]) if data.get("valid_to") else None,
        description=data.get("description"),
    )


def _service(row: asyncpg.Record) -> Service:
    capacity = None
    if row["capacity_available"] is not None:
        capacity = Capacity(
            available=row["capacity_available"],
            maximum=row["capacity_maximum"],
            updated=row["capacity_updated"],
            reported_at=row["capacity_reported_at"],
            unit=row["capacity_unit"] or "referrals",
            description=row["capacity_description"],
        )
    return Service(
        id=row["service_id"],
        organisation_id=row["organisation_id"],
        name=row["service_name"],
        coverage=tuple(row["coverage"]),
        topics=tuple(Topic(t) for t in row["topics"]),
        capabilities=frozenset(Capability(c) for c in row["capabilities"]),
        languages=tuple(row["languages"]),
        eligibility=Eligibility(
            minimum_age=row["minimum_age"],
            maximum_age=row["maximum_age"],
            genders=frozenset(Gender(g) for g in row["genders"]),
            residency=Residency(row["residency"]),
        ),
        schedules=tuple(schedule_from_json(s) for s in row["schedules"]),
        capacity=capacity,
        status=ServiceStatus(row["status"]),
        description=row["service_description"],
    )


def _service_values(s: Service) -> tuple[Any, ...]:
    c = s.capacity
    return (
        s.id,
        s.organisation_id,
        s.name,
        s.description,
        s.status.value,
        list(s.coverage),
        [t.value for t in s.topics],
        sorted(c.value for c in s.capabilities),
        list(s.languages),
        s.eligibility.minimum_age,
        s.eligibility.maximum_age,
        sorted(g.value for g in s.eligibility.genders),
        s.eligibility.residency.value,
        [schedule_to_json(r) for r in s.schedules],
        c.available if c else None,
        c.maximum if c else None,
        c.unit if c else None,
        c.description if c else None,
        c.updated if c else None,
        c.reported_at if c else None,
    )


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
        *_service_values(service),
        updated_by,
    )


async def get_service(
    conn: asyncpg.Connection, *, service_id: uuid.UUID, for_update: bool = False
) -> tuple[Service, Audit] | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_SERVICE_COLUMNS}, {_SERVICE_AUDIT} FROM services s WHERE s.id = $1{lock}", service_id
    )
    if row is None:
        return None
    return _service(row), Audit(
        row["service_created_at"], row["service_updated_at"], row["service_updated_by"]
    )


async def services_of(conn: asyncpg.Connection, *, organisation_ids: Sequence[uuid.UUID]) -> list[Service]:
    rows = await conn.fetch(
        f"""SELECT {_SERVICE_COLUMNS} FROM services s
             WHERE s.organisation_id = ANY ($1::uuid[]) ORDER BY s.organisation_id, s.id""",
        list(organisation_ids),
    )
    return [_service(r) for r in rows]


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
        f"""SELECT {_SERVICE_COLUMNS}, count(*) OVER () AS total
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
    return [_service(r) for r in rows], total


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


# ---- matching ---------------------------------------------------------------------------------


class ListingCache:
    """Decoded listings by row version, so that matching reads only ids and versions when warm.

    Turning ~130 rows of 30 columns into domain objects costs more than the query itself; the
    rows rarely change. A listing is reused only while the xmin (row version) of its service,
    organisation and performance rows is the same, so any update, by any process, misses.
    Bounded (least recently used goes first); one per process, built by main.py.
    """

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._items: OrderedDict[uuid.UUID, tuple[tuple[int, int, int], Listing]] = OrderedDict()

    def get(self, service_id: uuid.UUID, version: tuple[int, int, int]) -> Listing | None:
        found = self._items.get(service_id)
        if found is None or found[0] != version:
            return None
        self._items.move_to_end(service_id)
        return found[1]

    def put(self, service_id: uuid.UUID, version: tuple[int, int, int], listing: Listing) -> None:
        self._items[service_id] = (version, listing)
        self._items.move_to_end(service_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


# OFFSET 0 keeps each lateral subquery from being flattened into a join: the planner would
# otherwise hash-join all organisations (a scan of the whole table) for ~100 services, where a
# primary-key probe per service is ten times faster.
_LISTING_FROM = """FROM services s
             CROSS JOIN LATERAL (SELECT o.*, o.xmin::text::bigint AS o_version FROM organisations o
                                  WHERE o.id = s.organisation_id OFFSET 0) o
             LEFT JOIN LATERAL (SELECT p.*, p.xmin::text::bigint AS p_version FROM performance p
                                 WHERE p.organisation_id = s.organisation_id OFFSET 0) p ON true"""
_VERSIONS = "s.xmin::text::bigint AS s_version, o.o_version, coalesce(p.p_version, 0) AS p_version"


def _listing(row: asyncpg.Record) -> Listing:
    performance = None
    if row["offered"] is not None:
        performance = Performance(
            offered=row["offered"],
            acknowledged=row["acknowledged"],
            declined=row["declined"],
            expired=row["expired"],
            ack_score=row["ack_score"],
            mean_ack_seconds=row["mean_ack_seconds"],
        )
    return Listing(_organisation(row), _service(row), performance)


async def find_listings(
    conn: asyncpg.Connection,
    *,
    area: Sequence[str],
    include_inactive: bool = False,
    cache: ListingCache | None = None,
) -> list[Listing]:
    """Every service whose area reaches one of the given entries, with organisation and record.

    One indexed query (GIN on services.coverage) for ids and row versions; full rows only for
    the listings the cache does not hold at that version. The ranking is done in Python.
    """
    full = f"""SELECT {_SERVICE_COLUMNS}, {_ORG_COLUMNS}, {_VERSIONS},
                      p.offered, p.acknowledged, p.declined, p.expired, p.ack_score, p.mean_ack_seconds
                 {_LISTING_FROM}"""
    where = "s.coverage && $1::text[] AND ($2 OR (o.active AND s.status = 'active'))"
    if cache is None:
        return [
            _listing(row) for row in await conn.fetch(f"{full} WHERE {where}", list(area), include_inactive)
        ]
    rows = await conn.fetch(
        f"SELECT s.id, {_VERSIONS} {_LISTING_FROM} WHERE {where}", list(area), include_inactive
    )
    found: dict[uuid.UUID, Listing] = {}
    missing = []
    for row in rows:
        version = (row["s_version"], row["o_version"], row["p_version"])
        listing = cache.get(row["id"], version)
        if listing is None:
            missing.append(row["id"])
        else:
            found[row["id"]] = listing
    if missing:
        for row in await conn.fetch(f"{full} WHERE s.id = ANY ($1::uuid[])", missing):
            listing = _listing(row)
            cache.put(row["service_id"], (row["s_version"], row["o_version"], row["p_version"]), listing)
            found[row["service_id"]] = listing
    return [found[row["id"]] for row in rows if row["id"] in found]


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

    def service_for(self, organisation_id: uuid.UUID) -> uuid.UUID | None:
        for candidate in self.candidates:
            if candidate.get("organisation_id") == str(organisation_id) and candidate.get("service_id"):
                return uuid.UUID(candidate["service_id"])
        return None


async def get_match(conn: asyncpg.Connection, *, referral_id: uuid.UUID) -> StoredMatch | None:
    row = await conn.fetchrow(
        """SELECT referral_id, case_id, organisation_id, reasons, candidates, matched_at, trace_id
             FROM matches WHERE referral_id = $1""",
        referral_id,
    )
    return StoredMatch(**dict(row)) if row else None


# ---- locations --------------------------------------------------------------------------------


_LOCATION_COLUMNS = """l.id, l.organisation_id, l.name, l.location_type, l.municipality_code,
    l.postal_code, l.address, l.latitude, l.longitude,
    coalesce((SELECT array_agg(sl.service_id ORDER BY sl.service_id) FROM service_at_locations sl
               WHERE sl.location_id = l.id), '{}') AS service_ids"""


def _location(row: asyncpg.Record) -> Location:
    return Location(
        id=row["id"],
        organisation_id=row["organisation_id"],
        name=row["name"],
        location_type=row["location_type"],
        municipality_code=row["municipality_code"],
        postal_code=row["postal_code"],
        address=row["address"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        service_ids=tuple(row["service_ids"]),
    )


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
    row = await conn.fetchrow(f"SELECT {_LOCATION_COLUMNS} FROM locations l WHERE l.id = $1", location_id)
    return _location(row) if row else None


async def locations_of(conn: asyncpg.Connection, *, organisation_ids: Sequence[uuid.UUID]) -> list[Location]:
    rows = await conn.fetch(
        f"""SELECT {_LOCATION_COLUMNS} FROM locations l
             WHERE l.organisation_id = ANY ($1::uuid[]) ORDER BY l.organisation_id, l.id""",
        list(organisation_ids),
    )
    return [_location(r) for r in rows]


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
        f"""SELECT sl.id AS sal_id, {_SERVICE_COLUMNS}, {_LOCATION_COLUMNS}, o.name AS organisation_name
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
    return [ServiceAtLocation(r["sal_id"], _service(r), _location(r), r["organisation_name"]) for r in rows]


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


# ---- handoff offers, performance and capacity holds ---------------------------------------------


async def record_offer(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID,
    attempt: int,
    organisation_id: uuid.UUID,
    at: datetime,
) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO offers (referral_id, attempt, organisation_id, offered_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING true""",
        referral_id,
        attempt,
        organisation_id,
        at,
    )
    if inserted:
        await conn.execute(
            """INSERT INTO performance (organisation_id, offered) VALUES ($1, 1)
               ON CONFLICT (organisation_id) DO UPDATE
                  SET offered = performance.offered + 1, updated_at = now()""",
            organisation_id,
        )
    return bool(inserted)


async def end_offer(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID,
    attempt: int,
    organisation_id: uuid.UUID,
    ended: str,
) -> "OfferEnd":
    """Mark an offer's end, once."""
    row = await conn.fetchrow(
        """INSERT INTO offers (referral_id, attempt, organisation_id, offered_at, ended)
           VALUES ($1, $2, $3, now(), $4)
           ON CONFLICT (referral_id, attempt) DO UPDATE SET ended = EXCLUDED.ended
            WHERE offers.ended IS NULL
        RETURNING (xmax = 0) AS unseen, offered_at""",
        referral_id,
        attempt,
        organisation_id,
        ended,
    )
    if row is None:
        return OfferEnd(first=False, offered_at=None)
    return OfferEnd(first=True, offered_at=None if row["unseen"] else row["offered_at"])


@dataclass(frozen=True)
class OfferEnd:
    first: bool  # False: this offer had ended before (a redelivery under a new event id)
    offered_at: datetime | None  # None when the offer itself was never seen


async def get_performance(conn: asyncpg.Connection, *, organisation_id: uuid.UUID) -> Performance | None:
    row = await conn.fetchrow(
        """SELECT offered, acknowledged, declined, expired, ack_score, mean_ack_seconds
             FROM performance WHERE organisation_id = $1""",
        organisation_id,
    )
    return Performance(**dict(row)) if row else None


async def save_performance(
    conn: asyncpg.Connection, *, organisation_id: uuid.UUID, performance: Performance
) -> None:
    await conn.execute(
        """INSERT INTO performance (organisation_id, offered, acknowledged, declined, expired,
                                    ack_score, mean_ack_seconds)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (organisation_id) DO UPDATE
              SET offered = EXCLUDED.offered, acknowledged = EXCLUDED.acknowledged,
                  declined = EXCLUDED.declined, expired = EXCLUDED.expired,
                  ack_score = EXCLUDED.ack_score, mean_ack_seconds = EXCLUDED.mean_ack_seconds,
                  updated_at = now()""",
        organisation_id,
        performance.offered,
        performance.acknowledged,
        performance.declined,
        performance.expired,
        performance.ack_score,
        performance.mean_ack_seconds,
    )


async def hold_capacity(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID,
    organisation_id: uuid.UUID,
    service_id: uuid.UUID,
    at: datetime,
) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO capacity_holds (referral_id, organisation_id, service_id, held_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
        referral_id,
        organisation_id,
        service_id,
        at,
    )
    return bool(inserted)


async def release_capacity(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, organisation_id: uuid.UUID | None, at: datetime
) -> list[uuid.UUID]:
    """Release the referral's holds (one organisation's, or all); the services given a place back."""
    rows = await conn.fetch(
        """UPDATE capacity_holds SET released_at = $3
            WHERE referral_id = $1 AND ($2::uuid IS NULL OR organisation_id = $2) AND released_at IS NULL
        RETURNING service_id""",
        referral_id,
        organisation_id,
        at,
    )
    return [r["service_id"] for r in rows]
