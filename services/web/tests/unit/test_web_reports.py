"""The reports page's layout rules: the period asked for, bars on one scale, CSV rows that a
spreadsheet cannot run, and a label for every chart and table."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from web import reports
from web.api.referral import HandoffReport
from web.i18n import Translator, load_catalogue
from web.reports import Table

CATALOGUE = load_catalogue()

REPORT = HandoffReport.model_validate(
    {
        "period": {"from": "2026-04-01", "to": "2026-04-30"},
        "totals": {
            "opened": 10,
            "offered": 8,
            "acknowledged": 6,
            "exhausted": 2,
            "unmatched": 1,
            "withdrawn": 1,
            "exhausted_rate": 0.25,
        },
        "acknowledgement": {
            "overall": {"key": "all", "count": 6, "median_s": 600.0, "p90_s": 1800.0},
            "by_severity": [
                {"key": "S4", "count": 2, "median_s": 300.0, "p90_s": 540.0},
                {"key": "S3", "count": 4, "median_s": 900.0, "p90_s": 1800.0},
                {"key": "S2", "count": 0, "median_s": None, "p90_s": None},
            ],
            "by_prefecture": [{"key": "13", "count": 6, "median_s": 600.0, "p90_s": 1800.0}],
            "by_organisation": [
                {"key": "00000000-0000-0000-0000-00000000000a", "count": 6, "median_s": 60.0, "p90_s": 90.0}
            ],
        },
        "organisations_needed": {
            "offered": 8,
            "distribution": [{"organisations": 1, "referrals": 5}, {"organisations": 2, "referrals": 3}],
            "second": 3,
            "third": 0,
            "second_rate": 0.375,
            "third_rate": 0.0,
        },
        "outcomes": {
            "contacted": 4,
            "accompanied": [{"code": "hospital", "times": 2, "referrals": 1}],
            "closed": [{"code": "supported", "times": 3, "referrals": 3}],
        },
    }
)
NAMES = {"00000000-0000-0000-0000-00000000000a": "=HYPERLINK(evil)"}


def test_the_page_opens_on_the_last_30_japan_days_up_to_today_in_japan() -> None:
    # 16:00 UTC on 30 April is already 1 May in Japan.
    period = reports.asked("", "", now=datetime(2026, 4, 30, 16, 0, tzinfo=UTC))
    assert (period.first, period.last, period.problems) == (date(2026, 4, 2), date(2026, 5, 1), ())


def test_a_date_that_cannot_be_read_or_a_reversed_period_is_named_not_raised() -> None:
    now = datetime(2026, 4, 30, tzinfo=UTC)
    assert reports.asked("2026-13-01", "", now=now).problems == ("from",)
    assert reports.asked("2026-04-10", "2026-04-01", now=now).problems == ("order",)


def test_bars_share_one_scale_and_a_missing_time_draws_nothing() -> None:
    drawn = reports.bars([("a", (50.0, 100.0), ()), ("b", (None, 25.0), ())])
    assert [bar.lengths for bar in drawn] == [(150, 300), (0, 75)]


def test_every_chart_has_a_labelled_row_per_group_with_minutes_and_counts() -> None:
    t = Translator("en", CATALOGUE["en"])
    found = reports.charts(t, REPORT, NAMES)
    assert [bar.label for bar in found["by_severity"]] == [t.label("severity", s) for s in ("S4", "S3", "S2")]
    assert found["by_severity"][0].texts == ("5.0", "9.0", "2")
    assert found["by_severity"][2].texts == ("—", "—", "0")
    assert found["by_prefecture"][0].label == "東京都"
    assert found["exhausted_rate"] == "25.0%"
    assert found["needed_rates"] == ("37.5%", "0.0%")


def test_the_csv_keeps_codes_and_numbers_and_never_starts_a_cell_with_a_formula() -> None:
    text = reports.csv_text(reports.csv_rows(Table.ACKNOWLEDGEMENT, REPORT, NAMES))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["from", "to", "breakdown", "key", "name", "accepted", "median_seconds", "p90_seconds"]
    assert ["2026-04-01", "2026-04-30", "severity", "S4", "", "2", "300.0", "540.0"] in rows
    organisation = next(row for row in rows if row[2] == "organisation")
    assert organisation[4] == "'=HYPERLINK(evil)"


@pytest.mark.parametrize("table", list(Table))
def test_every_csv_table_has_a_header_and_the_periods_rows(table: Table) -> None:
    rows = reports.csv_rows(table, REPORT, NAMES)
    assert rows[0][:2] == ["from", "to"]
    assert len(rows) > 1
    assert all(row[:2] == ["2026-04-01", "2026-04-30"] for row in rows[1:])


def test_every_text_the_reports_page_builds_from_a_code_is_in_both_catalogues() -> None:
    keys = [f"ops.rep.csv.{table.value}" for table in Table]
    keys += [f"ops.rep.problem.{p}" for p in ("from", "to", "order", "range")]
    keys += [f"ops.rep.{c}" for c in ("totals", "by_severity", "by_prefecture", "by_organisation")]
    keys += [f"ops.rep.{c}" for c in ("needed", "accompanied", "closed")]
    keys += [f"ops.rep.total.{k}" for k in ("opened", "offered", "acknowledged", "exhausted")]
    keys += [f"ops.rep.total.{k}" for k in ("unmatched", "withdrawn")]
    for lang in ("ja", "en"):
        assert [k for k in keys if k not in CATALOGUE[lang]] == []
