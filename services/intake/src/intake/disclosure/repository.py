"""disclosure's SQL: acceptances of cases, and the append-only, hash-chained provision records."""

import uuid
from dataclasses import asdict, fields, replace
from datetime import datetime

import asyncpg

from intake.disclosure.domain import GENESIS, Acceptance, ProvisionRecord, chain_hash

# ---- acceptances ----------------------------------------------------------------------------


async def insert_acceptance(conn: asyncpg.Connection, *, acceptance: Acceptance) -> bool:
    """False if this acknowledgement was already recorded (a redelivered event)."""
    inserted = await conn.fetchval(
        """INSERT INTO case_acceptances
               (case_id, organisation_id, referral_id, attempt, acknowledged_at, withdrawn_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true""",
        *asdict(acceptance).values(),
    )
    return bool(inserted)


async def withdraw_acceptances(conn: asyncpg.Connection, *, referral_id: uuid.UUID, at: datetime) -> int:
    result: str = await conn.execute(
        "UPDATE case_acceptances SET withdrawn_at = $2 WHERE referral_id = $1 AND withdrawn_at IS NULL",
        referral_id,
        at,
    )
    return int(result.rsplit(" ", 1)[-1])


async def find_acceptance(
    conn: asyncpg.Connection, *, case_id: uuid.UUID, organisation_id: uuid.UUID
) -> Acceptance | None:
    row = await conn.fetchrow(
        """SELECT case_id, organisation_id, referral_id, attempt, acknowledged_at, withdrawn_at
             FROM case_acceptances
            WHERE case_id = $1 AND organisation_id = $2 AND withdrawn_at IS NULL""",
        case_id,
        organisation_id,
    )
    return Acceptance(**dict(row)) if row else None


# ---- provision records ----------------------------------------------------------------------

_RECORD_FIELDS = [f.name for f in fields(ProvisionRecord)]
_RECORD_COLUMNS = ", ".join(_RECORD_FIELDS)
_CHAIN_LOCK = 7_305_501


async def append_provision(conn: asyncpg.Connection, *, record: ProvisionRecord) -> ProvisionRecord:
    """Append the record to the chain: its hash follows the last row's."""
    # One chain for the whole table: appends take turns, which their rarity makes cheap.
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _CHAIN_LOCK)
    prev = await conn.fetchval("SELECT row_hash FROM disclosures ORDER BY seq DESC LIMIT 1") or GENESIS
    chained = replace(record, prev_hash=prev, row_hash=chain_hash(record, prev))
    placeholders = ", ".join(f"${i}" for i in range(1, len(_RECORD_FIELDS) + 1))
    await conn.execute(
        f"INSERT INTO disclosures ({_RECORD_COLUMNS}) VALUES ({placeholders})",
        *[getattr(chained, n) for n in _RECORD_FIELDS],
    )
    return chained


def _record(row: asyncpg.Record) -> ProvisionRecord:
    return ProvisionRecord(**{**dict(row), "items": list(row["items"])})


async def list_provisions(
    conn: asyncpg.Connection, *, case_id: uuid.UUID | None = None, organisation_id: uuid.UUID | None = None
) -> list[ProvisionRecord]:
    rows = await conn.fetch(
        f"""SELECT {_RECORD_COLUMNS} FROM disclosures
             WHERE ($1::uuid IS NULL OR case_id = $1) AND ($2::uuid IS NULL OR organisation_id = $2)
             ORDER BY seq""",
        case_id,
        organisation_id,
    )
    return [_record(r) for r in rows]


async def provision_chain(conn: asyncpg.Connection) -> list[ProvisionRecord]:
    rows = await conn.fetch(f"SELECT {_RECORD_COLUMNS} FROM disclosures ORDER BY seq")
    return [_record(r) for r in rows]
