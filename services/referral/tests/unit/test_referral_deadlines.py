"""Deadlines by severity, and one business day counted in Japan's calendar."""

from datetime import date, datetime, time, timedelta

import pytest

from contracts.events import Candidate
from contracts.vocabulary import Severity
from referral.deadlines import JST, BusinessCalendar, DeadlinePolicy, is_business_day

pytestmark = pytest.mark.unit

POLICY = DeadlinePolicy()


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


def candidate(**changes: object) -> Candidate:
    return Candidate.model_validate(
        {
            "organisation_id": "00000000-0000-4000-8000-00000000000a",
            "rank": 1,
            "tier": "municipality",
            "reasons": [],
            **changes,
        }
    )


def s2(offered_at: datetime, who: Candidate | None = None) -> datetime:
    return POLICY.deadline(Severity.S2, offered_at=offered_at, candidate=who).astimezone(JST)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 5, 7), True),  # Wednesday after Golden Week
        (date(2025, 5, 6), False),  # 振替休日
        (date(2025, 5, 10), False),  # Saturday
        (date(2025, 12, 29), False),  # 年末年始, not a national holiday
        (date(2026, 1, 2), False),
        (date(2026, 1, 5), True),
    ],
)
def test_business_days_skip_weekends_national_holidays_and_the_year_end_closure(
    day: date, expected: bool
) -> None:
    assert is_business_day(day) is expected


def test_serious_and_emergency_deadlines_count_wall_clock_time() -> None:
    saturday_night = jst(2025, 5, 3, 23, 0)
    assert POLICY.deadline(
        Severity.S4, offered_at=saturday_night, candidate=None
    ) == saturday_night + timedelta(minutes=10)
    assert POLICY.deadline(
        Severity.S3, offered_at=saturday_night, candidate=None
    ) == saturday_night + timedelta(minutes=30)


def test_a_referral_level_offer_in_the_morning_is_due_the_same_time_next_business_day() -> None:
    assert s2(jst(2025, 6, 2, 10, 0)) == jst(2025, 6, 3, 10, 0)  # Monday → Tuesday


def test_a_friday_afternoon_offer_is_due_on_monday() -> None:
    assert s2(jst(2025, 6, 6, 16, 0)) == jst(2025, 6, 9, 16, 0)


def test_an_offer_before_golden_week_waits_for_the_holidays_to_end() -> None:
    assert s2(jst(2025, 5, 2, 16, 0)) == jst(2025, 5, 7, 16, 0)


def test_an_offer_during_the_year_end_closure_counts_from_the_first_working_day() -> None:
    assert s2(jst(2025, 12, 30, 11, 0)) == jst(2026, 1, 5, 17, 0)


def test_an_offer_at_night_counts_from_the_next_opening() -> None:
    assert s2(jst(2025, 6, 2, 20, 0)) == jst(2025, 6, 3, 17, 0)


def test_a_closed_candidates_next_opening_starts_the_count() -> None:
    who = candidate(open_now=False, next_opening=jst(2025, 6, 4, 13, 0).isoformat())
    assert s2(jst(2025, 6, 2, 10, 0), who) == jst(2025, 6, 5, 13, 0)


def test_an_open_candidate_counts_from_the_offer_whatever_its_next_opening() -> None:
    who = candidate(open_now=True, next_opening=jst(2025, 6, 4, 13, 0).isoformat())
    assert s2(jst(2025, 6, 2, 10, 0), who) == jst(2025, 6, 3, 10, 0)


def test_business_hours_are_configurable() -> None:
    policy = DeadlinePolicy(
        s2_business=timedelta(hours=2), calendar=BusinessCalendar(time(10, 0), time(12, 0))
    )
    assert policy.deadline(Severity.S2, offered_at=jst(2025, 6, 2, 11, 0), candidate=None) == jst(
        2025, 6, 3, 11, 0
    )
    with pytest.raises(ValueError):
        BusinessCalendar(time(17, 0), time(9, 0))


@pytest.mark.parametrize("severity", [Severity.S0, Severity.S1])
def test_levels_that_are_never_handed_off_have_no_deadline(severity: Severity) -> None:
    with pytest.raises(ValueError):
        POLICY.deadline(severity, offered_at=jst(2025, 6, 2, 10, 0), candidate=None)
