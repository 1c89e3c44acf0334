"""The operators' reports page: a period's handoffs as bar charts (server-rendered SVG, each with its
table for screen readers) and as CSV downloads. The figures are referral's aggregates
(`GET /v1/reports/handoffs`); this module only lays them out and names organisations and prefectures."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query
from fastapi.responses import Response

from contracts.hours import JST
from eventkit.downloads import csv_download
from eventkit.downloads import csv_text as csv_text  # the report's CSV body, as the download writes it
from web.api import referral
from web.api.referral import Durations, HandoffReport, Tally
from web.backends import BackendError
from web.coverage import japan_map
from web.deps import Ctx, OperatorPage
from web.timeline import names_of

router = APIRouter(prefix="/ops/reports")

# The page opens on the last 30 Japan days, today included.
DEFAULT_DAYS: Final = 30
# Prefectures and organisations beyond these are in the CSV; the page stays readable.
TOP_ROWS: Final = 10
# The bars' drawing width in SVG units (the labels sit in the table, not in the drawing).
BAR_WIDTH: Final = 300


class Table(StrEnum):
    """The CSV downloads, one per chart family."""

    TOTALS = "totals"
    ACKNOWLEDGEMENT = "acknowledgement"
    ORGANISATIONS = "organisations"
    OUTCOMES = "outcomes"


@dataclass(frozen=True)
class Asked:
    """The period an operator asked for (Japan dates), or the fields that could not be read."""

    first: date
    last: date
    problems: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}

    @property
    def query(self) -> str:
        return f"from={self.first.isoformat()}&to={self.last.isoformat()}"


def asked(first: str, last: str, *, now: datetime) -> Asked:
    """Defaults: the last DEFAULT_DAYS Japan days up to today. A date that cannot be read is named."""
    today = now.astimezone(JST).date()
    problems: list[str] = []

    def day(value: str, field: str, default: date) -> date:
        if not value:
            return default
        try:
            return date.fromisoformat(value)
        except ValueError:
            problems.append(field)
            return default

    chosen_last = day(last, "to", today)
    chosen_first = day(first, "from", chosen_last - timedelta(days=DEFAULT_DAYS - 1))
    if not problems and chosen_last < chosen_first:
        problems.append("order")
    return Asked(chosen_first, chosen_last, tuple(problems))


@dataclass(frozen=True)
class Bar:
    """One row of a chart: its label, its values, and each value's drawn length."""

    label: str
    values: tuple[float | None, ...]
    lengths: tuple[int, ...]
    texts: tuple[str, ...]


def bars(rows: Iterable[tuple[str, tuple[float | None, ...], tuple[str, ...]]]) -> list[Bar]:
    """Rows scaled to the chart's widest value (every series on one scale, so they compare)."""
    listed = list(rows)
    peak = max([v for _, values, _ in listed for v in values if v] + [1.0])
    return [
        Bar(label, values, tuple(round((v or 0) / peak * BAR_WIDTH) for v in values), texts)
        for label, values, texts in listed
    ]


def minutes(seconds: float | None) -> str:
    """Seconds as minutes with one decimal; '—' when nothing was accepted."""
    return "—" if seconds is None else f"{seconds / 60:.1f}"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def prefecture_names() -> dict[str, str]:
    return {shape.code: shape.name for shape in japan_map().shapes}


async def _names(ctx: Ctx, report: HandoffReport, *, limit: int | None = None) -> dict[str, str]:
    """The accepting organisations' names (the page's top rows, or all of them for the CSV)."""
    rows = report.acknowledgement.by_organisation[:limit]
    return await names_of(ctx, {row.key for row in rows})


def charts(t: Any, report: HandoffReport, names: Mapping[str, str]) -> dict[str, Any]:
    """Everything the page draws, each chart as rows of bars with their printed values."""
    ack = report.acknowledgement
    prefectures = prefecture_names()

    def times(rows: Iterable[Durations], label: Callable[[str], str]) -> list[Bar]:
        return bars(
            (
                label(row.key),
                (row.median_s, row.p90_s),
                (minutes(row.median_s), minutes(row.p90_s), str(row.count)),
            )
            for row in rows
        )

    needed = report.organisations_needed
    outcomes = report.outcomes
    totals = report.totals.model_dump()

    def tallies(kind: str, rows: Iterable[Tally]) -> list[Bar]:
        return bars(
            (t.label(kind, row.code), (row.referrals,), (str(row.referrals), str(row.times))) for row in rows
        )

    funnel = ("opened", "offered", "acknowledged", "exhausted", "unmatched", "withdrawn")
    return {
        "totals": bars((t(f"ops.rep.total.{k}"), (totals[k],), (str(totals[k]),)) for k in funnel),
        "exhausted_rate": percent(report.totals.exhausted_rate),
        "overall": ack.overall,
        "overall_text": (minutes(ack.overall.median_s), minutes(ack.overall.p90_s)),
        "by_severity": times(ack.by_severity, lambda k: t.label("severity", k)),
        "by_prefecture": times(ack.by_prefecture[:TOP_ROWS], lambda k: prefectures.get(k, k)),
        "by_organisation": times(ack.by_organisation[:TOP_ROWS], lambda k: names.get(k, k[:8])),
        "more_prefectures": max(len(ack.by_prefecture) - TOP_ROWS, 0),
        "more_organisations": max(len(ack.by_organisation) - TOP_ROWS, 0),
        "needed": bars(
            (t("ops.rep.needed_n", n=row.organisations), (row.referrals,), (str(row.referrals),))
            for row in needed.distribution
        ),
        "needed_rates": (percent(needed.second_rate), percent(needed.third_rate)),
        "needed_counts": (needed.second, needed.third, needed.offered),
        "contacted": outcomes.contacted,
        "accompanied": tallies("accompanied", outcomes.accompanied),
        "closed": tallies("outcome", outcomes.closed),
    }


# ---- CSV ------------------------------------------------------------------------------------


def csv_rows(table: Table, report: HandoffReport, names: Mapping[str, str]) -> list[list[object]]:
    """One table of the report as rows, header first; codes as they are, names beside them."""
    days = [report.period.first, report.period.last]
    if table is Table.TOTALS:
        needed = report.organisations_needed.model_dump()
        rows: list[list[object]] = [["from", "to", "measure", "value"]]
        measures = list(report.totals.model_dump().items())
        measures += [(f"needed_{k}", needed[k]) for k in ("second", "third", "second_rate", "third_rate")]
        return rows + [[*days, k, v] for k, v in measures]
    if table is Table.ACKNOWLEDGEMENT:
        prefectures = prefecture_names()
        rows = [["from", "to", "breakdown", "key", "name", "accepted", "median_seconds", "p90_seconds"]]
        ack = report.acknowledgement
        groups: list[tuple[str, list[Durations], Mapping[str, str]]] = [
            ("overall", [ack.overall], {}),
            ("severity", ack.by_severity, {}),
            ("prefecture", ack.by_prefecture, prefectures),
            ("organisation", ack.by_organisation, names),
        ]
        for breakdown, found, named in groups:
            for row in found:
                counts = [row.count, row.median_s, row.p90_s]
                rows.append([*days, breakdown, row.key, named.get(row.key, ""), *counts])
        return rows
    if table is Table.ORGANISATIONS:
        rows = [["from", "to", "organisations_offered", "referrals"]]
        distribution = report.organisations_needed.distribution
        return rows + [[*days, r.organisations, r.referrals] for r in distribution]
    outcomes = report.outcomes
    rows = [["from", "to", "milestone", "code", "times", "referrals"]]
    rows.append([*days, "contacted", "", "", outcomes.contacted])
    for milestone, tallies in (("accompanied", outcomes.accompanied), ("closed", outcomes.closed)):
        rows += [[*days, milestone, tally.code, tally.times, tally.referrals] for tally in tallies]
    return rows


# ---- routes ---------------------------------------------------------------------------------


@router.get("")
async def reports(
    ctx: OperatorPage,
    first: Annotated[str, Query(alias="from", max_length=20)] = "",
    last: Annotated[str, Query(alias="to", max_length=20)] = "",
) -> Response:
    period = asked(first, last, now=datetime.now(JST))
    found: dict[str, Any] | None = None
    problems = list(period.problems)
    if not problems:
        try:
            report = await ctx.read(referral.HANDOFF_REPORT, params=period.params)
            found = charts(ctx.t, report, await _names(ctx, report, limit=TOP_ROWS))
        except BackendError as error:
            if error.status != 422:
                raise
            problems.append("range")
    return await ctx.render(
        "ops/reports.html",
        period=period,
        found=found,
        problems=problems,
        tables=[table.value for table in Table],
        bar_width=BAR_WIDTH,
    )


@router.get("/{table}.csv")
async def report_csv(
    ctx: OperatorPage,
    table: Table,
    first: Annotated[str, Query(alias="from", max_length=20)] = "",
    last: Annotated[str, Query(alias="to", max_length=20)] = "",
) -> Response:
    """One table of the period's report, UTF-8 with a BOM so that Excel reads the Japanese."""
    period = asked(first, last, now=datetime.now(JST))
    if period.problems:
        return Response(ctx.t("ops.rep.problem"), status_code=422, media_type="text/plain; charset=utf-8")
    report = await ctx.read(referral.HANDOFF_REPORT, params=period.params)
    rows = csv_rows(table, report, await _names(ctx, report))
    filename = f"tsunagu-{table.value}-{period.first.isoformat()}_{period.last.isoformat()}.csv"
    return csv_download(rows, filename=filename, headers={"Cache-Control": "no-store"})
