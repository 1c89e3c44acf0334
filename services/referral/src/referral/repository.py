"""referral's SQL: referrals and their timeline, mapped to and from the domain objects."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from contracts.events import Candidate
from contracts.vocabulary import LawfulBasis, Severity, Topic
from referral.domain import Referral, ReferralState, TimelineEntry

_COLUMNS = """id, case_id, state, topic, municipality_code, severity, lawful_basis, organisation_id,
              attempt, reasons, candidates, created_at, updated_at"""


def _to_referral(row: asyncpg.Record) -> Referral:
    return Referral(
        id=row["id"],
        case_id=row["case_id"],
        state=ReferralState(row["state"]),
        topic=Topic(row["topic"]),
        municipality_code=row["municipality_code"],
        severity=Severity(row["severity"]),
        lawful_basis=LawfulBasis(row["lawful_basis"]),
        organisation_id=row["organisation_id"],
        attempt=row["attempt"],
        reasons=tuple(row["reasons"]),
        candidates=tuple(Candidate.model_validate(c) for c in row["candidates"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _candidates_json(referral: Referral) -> list[dict[str, Any]]:
    return [candidate.model_dump(mode="json") for candidate in referral.candidates]


async def insert_referral(conn: asyncpg.Connection, *, referral: Referral, trace_id: str | None) -> bool:
    """True if inserted; False if the case already has a referral (a repeated consultation)."""
    inserted = await conn.fetchval(
        f"""INSERT INTO referrals ({_COLUMNS}, trace_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            ON CONFLICT (case_id) DO NOTHING RETURNING true""",
        referral.id,
        referral.case_id,
        referral.state.value,
        referral.topic.value,
        referral.municipality_code,
        referral.severity.value,
        referral.lawful_basis.value,
        referral.organisation_id,
        referral.attempt,
        list(referral.reasons),
        _candidates_json(referral),
        referral.created_at,
        referral.updated_at,
        trace_id,
    )
    return bool(inserted)


async def lock_referral(conn: asyncpg.Connection, *, referral_id: uuid.UUID) -> Referral | None:
    """Read for a change: facts of one referral come over several topics and may race."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM referrals WHERE id = $1 FOR UPDATE", referral_id)
    return _to_referral(row) if row else None


async def get_referral(conn: asyncpg.Connection, *, referral_id: uuid.UUID) -> Referral | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM referrals WHERE id = $1", referral_id)
    return _to_referral(row) if row else None


async def update_referral(conn: asyncpg.Connection, *, referral: Referral) -> None:
    await conn.execute(
        """UPDATE referrals
              SET state = $2, organisation_id = $3, attempt = $4, reasons = $5, candidates = $6,
                  updated_at = now()
            WHERE id = $1""",
        referral.id,
        referral.state.value,
        referral.organisation_id,
        referral.attempt,
        list(referral.reasons),
        _candidates_json(referral),
    )


async def add_timeline_entry(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID,
    state: ReferralState,
    at: datetime,
    actor: str,
    detail: dict[str, Any],
    trace_id: str | None,
) -> None:
    await conn.execute(
        """INSERT INTO referral_timeline (referral_id, state, at, actor, detail, trace_id)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        referral_id,
        state.value,
        at,
        actor,
        detail,
        trace_id,
    )


async def timeline(conn: asyncpg.Connection, *, referral_id: uuid.UUID) -> list[TimelineEntry]:
    rows = await conn.fetch(
        """SELECT state, at, actor, trace_id FROM referral_timeline
            WHERE referral_id = $1 ORDER BY id""",
        referral_id,
    )
    return [
        TimelineEntry(
            state=ReferralState(row["state"]), at=row["at"], actor=row["actor"], trace_id=row["trace_id"]
        )
        for row in rows
    ]


async def referrals_of_case(conn: asyncpg.Connection, *, case_id: uuid.UUID) -> list[Referral]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM referrals WHERE case_id = $1 ORDER BY created_at, id", case_id
    )
    return [_to_referral(row) for row in rows]


async def referrals_in_state(conn: asyncpg.Connection, *, state: ReferralState, limit: int) -> list[Referral]:
    # Longest in the state first: an operator's work list must not hide the oldest cases.
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM referrals WHERE state = $1
             ORDER BY updated_at, id LIMIT $2""",
        state.value,
        limit,
    )
    return [_to_referral(row) for row in rows]
