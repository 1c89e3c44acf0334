"""Reports for operators: the handoffs of a period, and the dashboard's counts now.

Each is read in one read-only REPEATABLE READ transaction: its figures come from one snapshot of
the database, so a handoff accepted while the report is read cannot be half in it.
"""

import asyncpg

from eventkit.clock import Clock
from referral.reports import domain, repository
from referral.reports.domain import Breakdown, HandoffReport, Period, StateCounts


async def handoff_report(pool: asyncpg.Pool, *, period: Period) -> HandoffReport:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):

        async def times(breakdown: Breakdown) -> list[domain.Durations]:
            return await repository.acknowledgement_times(conn, period=period, breakdown=breakdown)

        overall = await times(Breakdown.OVERALL)
        severity = await times(Breakdown.SEVERITY)
        prefecture = await times(Breakdown.PREFECTURE)
        organisation = await times(Breakdown.ORGANISATION)
        totals = await repository.totals(conn, period=period)
        needed = await repository.organisations_needed(conn, period=period)
        tallies = await repository.outcome_tallies(conn, period=period)
    contacted = tallies["contacted"].get("")
    return HandoffReport(
        period=period,
        totals=totals,
        overall=domain.overall(overall),
        by_severity=domain.by_severity(severity),
        by_prefecture=domain.busiest_first(prefecture),
        by_organisation=domain.busiest_first(organisation),
        organisations_needed=domain.OrganisationsNeeded(needed),
        outcomes=domain.outcomes(
            contacted.referrals if contacted else 0, tallies["accompanied"], tallies["closed"]
        ),
    )


async def state_counts(pool: asyncpg.Pool, *, clock: Clock) -> StateCounts:
    """Every referral by state, and the open offers past their deadline by the lifecycle's clock."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        by_state = await repository.referrals_by_state(conn)
        overdue = await repository.overdue_count(conn, now=clock())
    return domain.state_counts(by_state, overdue)
