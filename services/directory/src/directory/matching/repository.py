"""Matching's SQL: the listings whose area reaches a place (through a cache of decoded rows), and
the one answer stored per referral."""

import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from directory.matching.domain import Listing, Performance
from directory.register.rows import ORGANISATION_COLUMNS, SERVICE_COLUMNS, as_organisation, as_service
from eventkit import outbox
from eventkit.build import from_row


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
    performance = None if row["offered"] is None else from_row(Performance, row)
    return Listing(as_organisation(row), as_service(row), performance)


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
    full = f"""SELECT {SERVICE_COLUMNS}, {ORGANISATION_COLUMNS}, {_VERSIONS},
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


async def listings_of_organisation(conn: asyncpg.Connection, *, organisation_id: uuid.UUID) -> list[Listing]:
    """Every service of one organisation, active or not, wherever it works."""
    rows = await conn.fetch(
        f"""SELECT {SERVICE_COLUMNS}, {ORGANISATION_COLUMNS}, {_VERSIONS},
                   p.offered, p.acknowledged, p.declined, p.expired, p.ack_score, p.mean_ack_seconds
              {_LISTING_FROM} WHERE s.organisation_id = $1 ORDER BY s.id""",
        organisation_id,
    )
    return [_listing(row) for row in rows]


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
    events: outbox.Rows,
) -> bool:
    """Record the answer to a referral with the events announcing it, in one statement; False if
    it was answered before (nothing is written)."""
    inserted = await conn.fetchval(
        f"""WITH inserted AS (
                INSERT INTO matches
                       (referral_id, case_id, organisation_id, reasons, candidates, matched_at, trace_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (referral_id) DO NOTHING
                RETURNING true),
            outboxed AS ({outbox.insert_sql(8, when="EXISTS (SELECT FROM inserted)")})
        SELECT EXISTS (SELECT FROM inserted)""",
        referral_id,
        case_id,
        organisation_id,
        reasons,
        candidates,
        matched_at,
        trace_id,
        *events.args(),
    )
    if inserted:
        events.stage(conn)
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
