"""What a report covers and how its figures are read: Japan-date periods, rates of referrals offered,
every known code listed (and unknown ones kept), every state counted."""

from datetime import UTC, date, datetime

import pytest

from eventkit.errors import Invalid
from referral.lifecycle.states import ReferralState
from referral.reports import domain
from referral.reports.domain import OrganisationsNeeded, Tally, Totals


def test_a_period_runs_from_the_first_japan_midnight_to_the_midnight_after_its_last_day() -> None:
    period = domain.period_of(date(2026, 4, 1), date(2026, 4, 30))
    assert period.starts_at == datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
    assert period.ends_at == datetime(2026, 4, 30, 15, 0, tzinfo=UTC)
    assert period.days == 30


@pytest.mark.parametrize(
    ("first", "last"), [(date(2026, 4, 2), date(2026, 4, 1)), (date(2025, 1, 1), date(2026, 1, 2))]
)
def test_a_reversed_or_longer_than_a_year_and_a_day_period_is_refused(first: date, last: date) -> None:
    with pytest.raises(Invalid):
        domain.period_of(first, last)


def test_a_leap_year_fits_in_one_report() -> None:
    assert domain.period_of(date(2028, 1, 1), date(2028, 12, 31)).days == 366


def test_rates_are_of_the_referrals_offered_and_none_when_nothing_was_offered() -> None:
    needed = OrganisationsNeeded({1: 6, 2: 3, 3: 1})
    assert (needed.offered, needed.at_least(2), needed.at_least(3)) == (10, 4, 1)
    assert needed.rate(2) == pytest.approx(0.4)
    assert OrganisationsNeeded({}).rate(2) is None
    assert Totals(5, 4, 3, 1, 1, 0).exhausted_rate == pytest.approx(0.25)
    assert Totals(1, 0, 0, 0, 1, 0).exhausted_rate is None


def test_every_known_code_is_listed_in_order_and_an_unknown_recorded_code_is_kept_last() -> None:
    found = {"police": Tally("police", 2, 1), "boat": Tally("boat", 1, 1)}
    outcomes = domain.outcomes(3, found, {})
    assert [t.code for t in outcomes.accompanied] == ["hospital", "police", "welfare_office", "other", "boat"]
    assert outcomes.accompanied[1] == Tally("police", 2, 1)
    assert [t.times for t in outcomes.closed] == [0, 0, 0, 0, 0]


def test_severities_come_most_urgent_first_with_a_row_even_when_none_was_accepted() -> None:
    rows = domain.by_severity([domain.Durations("S3", 2, 60.0, 90.0)])
    assert [(r.key, r.count) for r in rows] == [("S4", 0), ("S3", 2), ("S2", 0)]


def test_the_dashboard_counts_every_state_and_needing_attention_adds_the_overdue() -> None:
    counts = domain.state_counts({"unmatched": 2, "exhausted": 3, "closed": 400}, overdue=4)
    assert set(counts.by_state) == set(ReferralState)
    assert counts.by_state[ReferralState.CLOSED] == 400
    assert counts.needing_attention == 9
