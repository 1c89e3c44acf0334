"""The reports' SQL: aggregates over every referral of a period, computed by PostgreSQL
(count … GROUP BY, percentile_cont), never by reading rows into the service."""

from datetime import datetime
from typing import Final

import asyncpg

from referral.reports.domain import Breakdown, Durations, Period, Tally, Totals

# The period's referrals: opened from its first Japan midnight up to the one after its last day.
_IN_PERIOD = "r.created_at >= $1 AND r.created_at < $2"

# What each breakdown groups by, and when its clock starts: the referral's opening (how long the
# person waited for an organisation), or — per organisation — the offer to that organisation
# (what the organisation itself took; the attempts before it were not its doing).
# Literal SQL chosen by an enum, never by input.
_GROUPS: Final = {
    Breakdown.OVERALL: ("'all'", "r.created_at"),
    Breakdown.SEVERITY: ("r.severity", "r.created_at"),
    Breakdown.PREFECTURE: ("left(r.municipality_code, 2)", "r.created_at"),
    Breakdown.ORGANISATION: ("a.organisation_id::text", "a.offered_at"),
}


async def acknowledgement_times(
    conn: asyncpg.Connection, *, period: Period, breakdown: Breakdown
) -> list[Durations]:
    """Median and 90th percentile (continuous, as PostgreSQL's percentile_cont) of the seconds
    from the clock's start to the partner's acceptance, per group."""
    key, since = _GROUPS[breakdown]
    rows = await conn.fetch(
        f"""SELECT {key} AS key, count(*) AS n,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.ended_at - {since}))
                       AS median_s,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.ended_at - {since}))
                       AS p90_s
              FROM referrals r
              JOIN handoff_attempts a ON a.referral_id = r.id
             WHERE {_IN_PERIOD} AND a.state = 'acknowledged' AND a.ended_at IS NOT NULL
             GROUP BY 1""",
        period.starts_at,
        period.ends_at,
    )
    return [
        Durations(key=row["key"], count=row["n"], median_s=row["median_s"], p90_s=row["p90_s"])
        for row in rows
    ]


async def totals(conn: asyncpg.Connection, *, period: Period) -> Totals:
    # "Ever" rather than "now": an exhausted referral an operator later placed still ran out once.
    # The state covers rows migrated from before the timeline recorded every step.
    # Set-based (joins of per-referral flags), not a subquery per referral: one pass over each table.
    row = await conn.fetchrow(
        f"""WITH opened AS (SELECT r.id, r.state FROM referrals r WHERE {_IN_PERIOD}),
                 attempts AS (
                    SELECT a.referral_id, bool_or(a.state = 'acknowledged') AS acknowledged
                      FROM handoff_attempts a JOIN opened o ON o.id = a.referral_id
                     GROUP BY a.referral_id),
                 steps AS (
                    SELECT t.referral_id, bool_or(t.state = 'exhausted') AS exhausted,
                           bool_or(t.state = 'unmatched') AS unmatched
                      FROM referral_timeline t JOIN opened o ON o.id = t.referral_id
                     WHERE t.state IN ('exhausted', 'unmatched')
                     GROUP BY t.referral_id)
            SELECT count(*) AS opened,
                   count(a.referral_id) AS offered,
                   count(*) FILTER (WHERE a.acknowledged) AS acknowledged,
                   count(*) FILTER (WHERE s.exhausted OR o.state = 'exhausted') AS exhausted,
                   count(*) FILTER (WHERE s.unmatched OR o.state = 'unmatched') AS unmatched,
                   count(*) FILTER (WHERE o.state = 'withdrawn') AS withdrawn
              FROM opened o
              LEFT JOIN attempts a ON a.referral_id = o.id
              LEFT JOIN steps s ON s.referral_id = o.id""",
        period.starts_at,
        period.ends_at,
    )
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return Totals(**dict(row))


async def organisations_needed(conn: asyncpg.Connection, *, period: Period) -> dict[int, int]:
    """{organisations offered the referral: referrals}, over the referrals offered to anyone."""
    rows = await conn.fetch(
        f"""SELECT organisations, count(*) AS referrals
              FROM (SELECT count(*) AS organisations
                      FROM referrals r JOIN handoff_attempts a ON a.referral_id = r.id
                     WHERE {_IN_PERIOD}
                     GROUP BY r.id) AS per_referral
             GROUP BY organisations""",
        period.starts_at,
        period.ends_at,
    )
    return {row["organisations"]: row["referrals"] for row in rows}


async def outcome_tallies(conn: asyncpg.Connection, *, period: Period) -> dict[str, dict[str, Tally]]:
    """{milestone: {code: tally}} for 面談 (contacted, code ''), 同行支援 (accompanied, by
    destination) and closing (closed, by outcome code). A late repeat of a fact is history only."""
    rows = await conn.fetch(
        f"""SELECT t.state AS milestone,
                   coalesce(t.detail ->> 'accompanied_to', t.detail ->> 'outcome', '') AS code,
                   count(*) AS times, count(DISTINCT t.referral_id) AS referrals
              FROM referral_timeline t JOIN referrals r ON r.id = t.referral_id
             WHERE {_IN_PERIOD}
               AND t.state IN ('contacted', 'accompanied', 'closed') AND NOT t.detail ? 'late'
             GROUP BY 1, 2""",
        period.starts_at,
        period.ends_at,
    )
    found: dict[str, dict[str, Tally]] = {"contacted": {}, "accompanied": {}, "closed": {}}
    for row in rows:
        found[row["milestone"]][row["code"]] = Tally(row["code"], row["times"], row["referrals"])
    return found


async def referrals_by_state(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("SELECT state, count(*) AS n FROM referrals GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


async def overdue_count(conn: asyncpg.Connection, *, now: datetime) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM referrals WHERE deadline_at IS NOT NULL AND deadline_at < $1", now
    )
    return count
