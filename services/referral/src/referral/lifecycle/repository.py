"""The lifecycle's SQL: referrals, their attempts, the timeline and the deadline timers."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from contracts.events import Candidate
from contracts.vocabulary import AgeBand, DeclineReason, Gender, IssueTag, LawfulBasis, Severity, Topic
from eventkit import outbox
from referral.lifecycle.domain import (
    Attempt,
    CaseNeeds,
    Deadline,
    Entry,
    PendingReoffer,
    Referral,
    TimelineEntry,
    Timer,
)
from referral.lifecycle.states import AttemptState, Milestone, ReferralState

_NEW_COLUMNS = """id, case_id, state, topic, municipality_code, severity, lawful_basis, organisation_id,
                  attempt, reasons, candidates, created_at, updated_at, deadline_at, need_tags,
                  age_band, gender, language"""
_COLUMNS = f"{_NEW_COLUMNS}, reoffer_request_id, reoffer_organisation_id"

_ATTEMPT_COLUMNS = """attempt, organisation_id, state, offered_at, deadline_at, ended_at, decline_reason,
                      via"""


def _to_referral(row: asyncpg.Record, attempts: tuple[Attempt, ...] = ()) -> Referral:
    return Referral(
        id=row["id"],
        case_id=row["case_id"],
        state=ReferralState(row["state"]),
        topic=Topic(row["topic"]),
        municipality_code=row["municipality_code"],
        severity=Severity(row["severity"]),
        lawful_basis=LawfulBasis(row["lawful_basis"]),
        needs=CaseNeeds(
            need_tags=tuple(IssueTag(t) for t in row["need_tags"]),
            age_band=AgeBand(row["age_band"]),
            gender=Gender(row["gender"]),
            language=row["language"],
        ),
        organisation_id=row["organisation_id"],
        attempt=row["attempt"],
        reasons=tuple(row["reasons"]),
        candidates=tuple(Candidate.model_validate(c) for c in row["candidates"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deadline_at=row["deadline_at"],
        attempts=attempts,
        pending_reoffer=(
            PendingReoffer(row["reoffer_request_id"], row["reoffer_organisation_id"])
            if row["reoffer_request_id"]
            else None
        ),
    )


def _to_attempt(row: asyncpg.Record) -> Attempt:
    return Attempt(
        number=row["attempt"],
        organisation_id=row["organisation_id"],
        state=AttemptState(row["state"]),
        offered_at=row["offered_at"],
        deadline_at=row["deadline_at"],
        ended_at=row["ended_at"],
        decline_reason=DeclineReason(row["decline_reason"]) if row["decline_reason"] else None,
        via=row["via"],
    )


def _candidates_json(referral: Referral) -> list[dict[str, Any]]:
    return [candidate.model_dump(mode="json") for candidate in referral.candidates]


_INSERTED = "EXISTS (SELECT FROM inserted)"


async def insert_referral(
    conn: asyncpg.Connection,
    *,
    referral: Referral,
    entries: Sequence[Entry],
    events: outbox.Rows,
    trace_id: str | None,
    trace_headers: Mapping[str, str],
) -> bool:
    """The referral with its first timeline entries and events, in one statement; True if
    inserted, False (and nothing written) if the case already has one (a repeated consultation)."""
    inserted = await conn.fetchval(
        f"""WITH inserted AS (
                INSERT INTO referrals ({_NEW_COLUMNS}, trace_id, trace_headers)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                        $19, $20)
                ON CONFLICT (case_id) DO NOTHING RETURNING true),
            timeline AS ({_timeline_insert(trace_id_at=19, arrays_at=21, when=_INSERTED)}),
            outboxed AS ({outbox.insert_sql(27, when=_INSERTED)})
        SELECT EXISTS (SELECT FROM inserted)""",
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
        referral.deadline_at,
        [t.value for t in referral.needs.need_tags],
        referral.needs.age_band.value,
        referral.needs.gender.value,
        referral.needs.language,
        trace_id,
        dict(trace_headers),
        *_timeline_arrays(entries),
        *events.args(),
    )
    if inserted:
        events.stage(conn)
    return bool(inserted)


async def _attempts(conn: asyncpg.Connection, referral_id: uuid.UUID) -> tuple[Attempt, ...]:
    rows = await conn.fetch(
        f"SELECT {_ATTEMPT_COLUMNS} FROM handoff_attempts WHERE referral_id = $1 ORDER BY attempt",
        referral_id,
    )
    return tuple(_to_attempt(row) for row in rows)


async def lock_referral(conn: asyncpg.Connection, *, referral_id: uuid.UUID) -> Referral | None:
    """Read for a change, with its attempts: facts, partners and deadlines of one referral race.
    One round trip: the lock_referral function (migrations/0007) locks, then reads."""
    row = await conn.fetchrow("SELECT (l.referral).*, l.attempts FROM lock_referral($1) AS l", referral_id)
    return _to_referral(row, tuple(_to_attempt(a) for a in row["attempts"])) if row else None


async def get_referral(conn: asyncpg.Connection, *, referral_id: uuid.UUID) -> Referral | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM referrals WHERE id = $1", referral_id)
    return _to_referral(row, await _attempts(conn, referral_id)) if row else None


async def trace_headers_of(conn: asyncpg.Connection, *, referral_id: uuid.UUID) -> dict[str, str]:
    """The case's trace context, so that work done later (a partner's click) joins its trace."""
    headers: dict[str, str] | None = await conn.fetchval(
        "SELECT trace_headers FROM referrals WHERE id = $1", referral_id
    )
    return headers or {}


@dataclass(frozen=True)
class AttemptWrite:
    """An attempt as a change leaves it, who ended it (if a person did), and whether its pending
    deadline timer goes (an attempt that ended otherwise than by its deadline)."""

    attempt: Attempt
    acted_by: str | None
    cancel_timer: bool


async def save_change(
    conn: asyncpg.Connection,
    *,
    referral: Referral,
    referral_changed: bool,
    attempts: Sequence[AttemptWrite],
    entries: Sequence[Entry],
    trace_id: str | None,
    deadline: Deadline | None,
    trace_headers: Mapping[str, str],
    events: outbox.Rows,
) -> None:
    """A change's rows in one statement (one round trip where there were four to seven): the
    referral row if it changed, its changed attempts, their timers dropped or the new one set, its
    timeline entries in order (the serial id keeps it) and the events announcing it.

    A timer to drop that the scheduler holds at this moment is skipped, not waited for: the
    scheduler locks the timer before the referral and we hold the referral, so waiting could
    deadlock; that timer fires without effect. The parts see the same snapshot, so none reads
    what another writes: they touch different rows."""
    pending = referral.pending_reoffer
    await conn.execute(
        f"""WITH updated AS (
                UPDATE referrals
                   SET state = $2, organisation_id = $3, attempt = $4, reasons = $5, candidates = $6,
                       deadline_at = $7, reoffer_request_id = $8, reoffer_organisation_id = $9,
                       updated_at = now()
                 WHERE id = $1 AND $10::boolean),
            cancelled AS (
                DELETE FROM handoff_timers
                 WHERE id IN (SELECT id FROM handoff_timers
                               WHERE referral_id = $1 AND attempt = ANY($11::int[]) AND fired_at IS NULL
                               FOR UPDATE SKIP LOCKED)),
            attempts AS (
                INSERT INTO handoff_attempts (referral_id, attempt, organisation_id, state, offered_at,
                                              deadline_at, ended_at, decline_reason, via, acted_by)
                SELECT $1, * FROM unnest($12::int[], $13::uuid[], $14::text[], $15::timestamptz[],
                                         $16::timestamptz[], $17::timestamptz[], $18::text[],
                                         $19::text[], $20::text[])
                ON CONFLICT (referral_id, attempt) DO UPDATE
                   SET state = EXCLUDED.state, ended_at = EXCLUDED.ended_at,
                       decline_reason = EXCLUDED.decline_reason, via = EXCLUDED.via,
                       acted_by = COALESCE(EXCLUDED.acted_by, handoff_attempts.acted_by)),
            timeline AS ({_timeline_insert(trace_id_at=21, arrays_at=22)}),
            outboxed AS ({outbox.insert_sql(31)})
        INSERT INTO handoff_timers (referral_id, attempt, due_at, trace_headers)
        SELECT $1, $28::int, $29::timestamptz, $30::jsonb WHERE $28::int IS NOT NULL
        ON CONFLICT (referral_id, attempt) DO NOTHING""",
        referral.id,
        referral.state.value,
        referral.organisation_id,
        referral.attempt,
        list(referral.reasons),
        _candidates_json(referral),
        referral.deadline_at,
        pending.request_id if pending else None,
        pending.organisation_id if pending else None,
        referral_changed,
        [write.attempt.number for write in attempts if write.cancel_timer],
        [write.attempt.number for write in attempts],
        [write.attempt.organisation_id for write in attempts],
        [write.attempt.state.value for write in attempts],
        [write.attempt.offered_at for write in attempts],
        [write.attempt.deadline_at for write in attempts],
        [write.attempt.ended_at for write in attempts],
        [r.value if (r := write.attempt.decline_reason) else None for write in attempts],
        [write.attempt.via for write in attempts],
        [write.acted_by for write in attempts],
        trace_id,
        *_timeline_arrays(entries),
        deadline.attempt if deadline else None,
        deadline.due_at if deadline else None,
        dict(trace_headers),
        *events.args(),
    )
    events.stage(conn)


async def set_decline_note(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, attempt: int, note_enc: str
) -> None:
    await conn.execute(
        "UPDATE handoff_attempts SET decline_note_enc = $3 WHERE referral_id = $1 AND attempt = $2",
        referral_id,
        attempt,
        note_enc,
    )


def _timeline_insert(*, trace_id_at: int, arrays_at: int, when: str = "true") -> str:
    """Timeline rows from arrays, in order: the referral id is $1, the trace id $`trace_id_at`, and
    the six arrays of `_timeline_arrays` the parameters from $`arrays_at` on; `when` can hold them
    back."""
    t, n = trace_id_at, arrays_at
    return f"""INSERT INTO referral_timeline (referral_id, state, at, actor, detail, trace_id, attempt,
                                          organisation_id)
           SELECT $1, e.state, e.at, e.actor, e.detail, ${t}, e.attempt, e.organisation_id
             FROM unnest(${n}::text[], ${n + 1}::timestamptz[], ${n + 2}::text[], ${n + 3}::jsonb[],
                         ${n + 4}::int[], ${n + 5}::uuid[])
                  WITH ORDINALITY AS e(state, at, actor, detail, attempt, organisation_id, ord)
            WHERE {when}
            ORDER BY e.ord"""


def _timeline_arrays(entries: Sequence[Entry]) -> tuple[list[Any], ...]:
    return (
        [entry.milestone.value for entry in entries],
        [entry.at for entry in entries],
        [entry.actor for entry in entries],
        [dict(entry.detail) for entry in entries],
        [entry.attempt for entry in entries],
        [entry.organisation_id for entry in entries],
    )


async def timeline(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, organisation_id: uuid.UUID | None = None
) -> list[TimelineEntry]:
    """In arrival order; with organisation_id, only the entries about that organisation's attempts."""
    rows = await conn.fetch(
        """SELECT state, at, actor, trace_id, attempt, organisation_id, detail FROM referral_timeline
            WHERE referral_id = $1 AND ($2::uuid IS NULL OR organisation_id = $2)
            ORDER BY id""",
        referral_id,
        organisation_id,
    )
    return [
        TimelineEntry(
            milestone=Milestone(row["state"]),
            at=row["at"],
            actor=row["actor"],
            trace_id=row["trace_id"],
            attempt=row["attempt"],
            organisation_id=row["organisation_id"],
            detail=row["detail"],
        )
        for row in rows
    ]


async def has_attempt_of(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, organisation_id: uuid.UUID
) -> bool:
    found = await conn.fetchval(
        "SELECT true FROM handoff_attempts WHERE referral_id = $1 AND organisation_id = $2",
        referral_id,
        organisation_id,
    )
    return bool(found)


async def referrals_of_case(conn: asyncpg.Connection, *, case_id: uuid.UUID) -> list[Referral]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM referrals WHERE case_id = $1 ORDER BY created_at, id", case_id
    )
    return [_to_referral(row) for row in rows]


async def referrals_of_cases(conn: asyncpg.Connection, *, case_ids: Sequence[uuid.UUID]) -> list[Referral]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM referrals WHERE case_id = ANY ($1::uuid[]) ORDER BY created_at, id",
        list(case_ids),
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


async def overdue_referrals(conn: asyncpg.Connection, *, now: datetime, limit: int) -> list[Referral]:
    # Oldest deadline first: the case that has waited longest past its promise leads the list.
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM referrals
             WHERE deadline_at IS NOT NULL AND deadline_at < $1
             ORDER BY deadline_at, id LIMIT $2""",
        now,
        limit,
    )
    return [_to_referral(row) for row in rows]


# ---- deadline timers ---------------------------------------------------------------------------


async def claim_due_timer(conn: asyncpg.Connection, *, now: datetime) -> Timer | None:
    """One due timer, locked for this transaction; replicas skip it rather than wait for it."""
    row = await conn.fetchrow(
        """SELECT id, referral_id, attempt, due_at, trace_headers FROM handoff_timers
            WHERE fired_at IS NULL AND due_at <= $1
            ORDER BY due_at, id
            LIMIT 1 FOR UPDATE SKIP LOCKED""",
        now,
    )
    return Timer(**dict(row)) if row else None


async def mark_timer_fired(conn: asyncpg.Connection, *, timer_id: int, now: datetime) -> None:
    await conn.execute("UPDATE handoff_timers SET fired_at = $2 WHERE id = $1", timer_id, now)


async def postpone_timer(conn: asyncpg.Connection, *, timer_id: int, until: datetime) -> None:
    await conn.execute(
        "UPDATE handoff_timers SET due_at = $2 WHERE id = $1 AND fired_at IS NULL", timer_id, until
    )


async def next_due_at(conn: asyncpg.Connection) -> datetime | None:
    due: datetime | None = await conn.fetchval(
        "SELECT min(due_at) FROM handoff_timers WHERE fired_at IS NULL"
    )
    return due


async def set_handled_elsewhere_note(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, actor: str, note_enc: str
) -> None:
    """The operator's own words on how the case was handled (sealed): here and nowhere else."""
    await conn.execute(
        """INSERT INTO handled_elsewhere_notes (referral_id, note_enc, written_by) VALUES ($1, $2, $3)""",
        referral_id,
        note_enc,
        actor,
    )


# The gauges of /metrics (eventkit.metrics.StateCount): counts and durations, never an id.
async def count_by_state(pool: asyncpg.Pool) -> list[tuple[str, float]]:
    rows = await pool.fetch("SELECT state, count(*) AS n FROM referrals GROUP BY state")
    return [(row["state"], float(row["n"])) for row in rows]


async def count_expired_by_severity(pool: asyncpg.Pool) -> list[tuple[str, float]]:
    """Attempts whose deadline passed without an answer, since the start, by the case's severity."""
    rows = await pool.fetch(
        """SELECT r.severity, count(*) AS n FROM handoff_attempts a JOIN referrals r ON r.id = a.referral_id
           WHERE a.state = 'expired' GROUP BY r.severity"""
    )
    return [(row["severity"], float(row["n"])) for row in rows]


async def acknowledgement_p90_by_severity(pool: asyncpg.Pool) -> list[tuple[str, float]]:
    """The 90th percentile of the time from offer to acknowledgement over the last hour."""
    rows = await pool.fetch(
        """SELECT r.severity,
                  percentile_cont(0.9) WITHIN GROUP (
                      ORDER BY extract(epoch FROM a.ended_at - a.offered_at))::float8 AS p90
           FROM handoff_attempts a JOIN referrals r ON r.id = a.referral_id
           WHERE a.state = 'acknowledged' AND a.ended_at > now() - interval '1 hour'
           GROUP BY r.severity"""
    )
    return [(row["severity"], float(row["p90"])) for row in rows]
