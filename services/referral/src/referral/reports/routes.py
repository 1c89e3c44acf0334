"""The reports' HTTP edge, for operators: a period's handoffs, and the dashboard's counts.
Request → service → response model; what each figure means is reports.domain's."""

from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from eventkit.deps import Operator, Pool
from eventkit.routing import api_router
from referral.deps import CurrentLifecycle
from referral.lifecycle.states import ReferralState
from referral.reports import service
from referral.reports.domain import Durations, HandoffReport, Period, StateCounts, Tally, period_of

router = api_router("/v1/reports", tags=["reports"])


class PeriodOut(BaseModel):
    first: date = Field(serialization_alias="from", description="The first Japan calendar day, included.")
    last: date = Field(serialization_alias="to", description="The last Japan calendar day, included.")
    starts_at: datetime = Field(description="The first day's 00:00 in Japan.")
    ends_at: datetime = Field(description="The day after the last, 00:00 in Japan (excluded).")
    time_zone: str = "Asia/Tokyo"

    @classmethod
    def of(cls, period: Period) -> "PeriodOut":
        return cls(first=period.first, last=period.last, starts_at=period.starts_at, ends_at=period.ends_at)


class DurationsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str = Field(description="Severity, prefecture code (JIS X 0401), organisation id, or `all`.")
    count: int = Field(description="Handoffs accepted.")
    median_s: float | None = Field(description="Median seconds to acceptance; null when none.")
    p90_s: float | None = Field(description="90th percentile (percentile_cont), seconds; null when none.")


class TotalsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    opened: int
    offered: int = Field(description="Offered to at least one organisation.")
    acknowledged: int
    exhausted: int = Field(description="Ran out of organisations (also if acted on afterwards).")
    unmatched: int
    withdrawn: int
    exhausted_rate: float | None = Field(description="exhausted / offered; null when none was offered.")


class AcknowledgementOut(BaseModel):
    overall: DurationsOut
    by_severity: list[DurationsOut] = Field(description="S4, S3, S2; from the referral's opening.")
    by_prefecture: list[DurationsOut] = Field(description="Busiest first; from the referral's opening.")
    by_organisation: list[DurationsOut] = Field(
        description="The accepting organisation, busiest first; from the offer to that organisation."
    )


class NeededOut(BaseModel):
    organisations: int
    referrals: int


class OrganisationsNeededOut(BaseModel):
    offered: int = Field(description="Referrals offered to at least one organisation.")
    distribution: list[NeededOut] = Field(description="Referrals by how many organisations were offered it.")
    second: int = Field(description="Offered to a second organisation (or more).")
    third: int = Field(description="Offered to a third organisation (or more).")
    second_rate: float | None
    third_rate: float | None


class TallyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    times: int = Field(description="How often it was recorded.")
    referrals: int = Field(description="For how many referrals.")


class OutcomesOut(BaseModel):
    contacted: int = Field(description="Referrals with a 面談.")
    accompanied: list[TallyOut] = Field(description="同行支援 by destination.")
    closed: list[TallyOut] = Field(description="Closing codes.")


class HandoffReportOut(BaseModel):
    period: PeriodOut
    totals: TotalsOut
    acknowledgement: AcknowledgementOut
    organisations_needed: OrganisationsNeededOut
    outcomes: OutcomesOut

    @classmethod
    def of(cls, report: HandoffReport) -> "HandoffReportOut":
        needed = report.organisations_needed

        def tallies(found: tuple[Tally, ...]) -> list[TallyOut]:
            return [TallyOut.model_validate(t) for t in found]

        def durations(rows: tuple[Durations, ...]) -> list[DurationsOut]:
            return [DurationsOut.model_validate(row) for row in rows]

        return cls(
            period=PeriodOut.of(report.period),
            totals=TotalsOut.model_validate(report.totals),
            acknowledgement=AcknowledgementOut(
                overall=DurationsOut.model_validate(report.overall),
                by_severity=durations(report.by_severity),
                by_prefecture=durations(report.by_prefecture),
                by_organisation=durations(report.by_organisation),
            ),
            organisations_needed=OrganisationsNeededOut(
                offered=needed.offered,
                distribution=[
                    NeededOut(organisations=count, referrals=n)
                    for count, n in sorted(needed.referrals_by_count.items())
                ],
                second=needed.at_least(2),
                third=needed.at_least(3),
                second_rate=needed.rate(2),
                third_rate=needed.rate(3),
            ),
            outcomes=OutcomesOut(
                contacted=report.outcomes.contacted,
                accompanied=tallies(report.outcomes.accompanied),
                closed=tallies(report.outcomes.closed),
            ),
        )


class StateCountsOut(BaseModel):
    by_state: dict[ReferralState, int] = Field(description="Every state, 0 when no referral is in it.")
    overdue: int = Field(description="Open offers past their deadline.")
    needing_attention: int = Field(description="unmatched + exhausted + overdue.")

    @classmethod
    def of(cls, counts: StateCounts) -> "StateCountsOut":
        return cls(
            by_state=dict(counts.by_state), overdue=counts.overdue, needing_attention=counts.needing_attention
        )


@router.get("/handoffs")
async def handoff_report(
    _: Operator,
    pool: Pool,
    first: Annotated[date, Query(alias="from", description="First Japan date, YYYY-MM-DD")],
    last: Annotated[date, Query(alias="to", description="Last Japan date, YYYY-MM-DD (included)")],
) -> HandoffReportOut:
    """The handoffs of a period: time to acceptance, organisations needed, exhaustion, outcomes

    Operators only. Covers the referrals opened from `from` to `to` (Japan dates, both included, at most 366
    days). Every figure is an aggregate over all of them.
    """
    report = await service.handoff_report(pool, period=period_of(first, last))
    return HandoffReportOut.of(report)


@router.get("/states")
async def state_counts(_: Operator, pool: Pool, lifecycle: CurrentLifecycle) -> StateCountsOut:
    """How many referrals are in each state now, and how many offers are overdue

    Operators only. Counted by the database, uncapped: the dashboard's figures.
    """
    return StateCountsOut.of(await service.state_counts(pool, clock=lifecycle.clock))
