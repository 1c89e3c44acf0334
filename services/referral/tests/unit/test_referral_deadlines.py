"""Deadlines by severity; an S2 deadline counts the chosen organisation's own open time."""

from datetime import datetime, timedelta

import pytest

from contracts.events import Candidate
from contracts.hours import JST, Hours, OpeningHours, weekly
from contracts.vocabulary import Severity
from referral.deadlines import DeadlinePolicy

POLICY = DeadlinePolicy()
EVERY_DAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


def candidate(hours: Hours | None = None, **changes: object) -> Candidate:
    return Candidate.model_validate(
        {
            "organisation_id": "00000000-0000-4000-8000-00000000000a",
            "rank": 1,
            "tier": "municipality",
            "reasons": [],
            "hours": OpeningHours.of(hours).model_dump(mode="json") if hours is not None else None,
            **changes,
        }
    )


def s2(offered_at: datetime, who: Candidate | None = None) -> datetime:
    return POLICY.deadline(Severity.S2, offered_at=offered_at, candidate=who).astimezone(JST)


def test_serious_and_emergency_deadlines_count_wall_clock_time() -> None:
    saturday_night = jst(2025, 5, 3, 23, 0)
    assert POLICY.deadline(
        Severity.S4, offered_at=saturday_night, candidate=None
    ) == saturday_night + timedelta(minutes=10)
    assert POLICY.deadline(
        Severity.S3, offered_at=saturday_night, candidate=None
    ) == saturday_night + timedelta(minutes=30)


def test_unknown_hours_count_a_public_offices_day_from_08_30_to_17_15() -> None:
    # Monday 10:00: 7h15 left that day, 45 min more on Tuesday from 08:30.
    assert s2(jst(2025, 6, 2, 10, 0)) == jst(2025, 6, 3, 9, 15)
    assert s2(jst(2025, 6, 2, 10, 0), candidate(None)) == jst(2025, 6, 3, 9, 15)


def test_a_public_office_skips_golden_week_and_the_year_end_closure() -> None:
    # Friday 2 May 2025, 16:00: 1h15 that day, then 6 May is a 振替休日; 6h45 on Wednesday the 7th.
    assert s2(jst(2025, 5, 2, 16, 0)) == jst(2025, 5, 7, 15, 15)
    # 12/30 is closed: the count starts on Monday 5 January at 08:30.
    assert s2(jst(2025, 12, 30, 11, 0)) == jst(2026, 1, 5, 16, 30)


def test_an_npo_open_on_holidays_counts_its_holiday_hours_not_the_next_weekdays() -> None:
    holidays_too = Hours((weekly(EVERY_DAY, "10:00", "18:00"),))
    # みどりの日 (Sunday 4 May 2025) 10:00: eight of its own hours end at 18:00 the same day.
    assert s2(jst(2025, 5, 4, 10, 0), candidate(holidays_too)) == jst(2025, 5, 4, 18, 0)


def test_an_evening_line_spreads_the_allowance_over_its_evenings() -> None:
    evenings = Hours((weekly(["TU", "WE", "TH", "FR", "SA"], "17:00", "22:00"),))
    # Monday noon: closed until Tuesday 17:00; five hours Tuesday, three on Wednesday.
    assert s2(jst(2025, 6, 2, 12, 0), candidate(evenings)) == jst(2025, 6, 4, 20, 0)


def test_a_round_the_clock_line_counts_wall_clock_time() -> None:
    always = Hours((weekly(EVERY_DAY, "00:00", "24:00"),))
    assert s2(jst(2026, 1, 1, 3, 0), candidate(always)) == jst(2026, 1, 1, 11, 0)


def test_a_public_body_with_published_hours_still_closes_on_holidays() -> None:
    office = Hours(
        (weekly(["MO", "TU", "WE", "TH", "FR"], "09:00", "17:00"),), closes_on_public_holidays=True
    )
    # Friday 16:00 before 海の日 (Monday 21 July 2025): one hour, then Tuesday 09:00–16:00.
    assert s2(jst(2025, 7, 18, 16, 0), candidate(office)) == jst(2025, 7, 22, 16, 0)


def test_hours_that_never_open_again_fall_back_to_the_public_offices() -> None:
    gone = Hours((weekly(["MO"], "09:00", "10:00"),))
    gone = Hours(
        tuple(
            type(rule)(rule.days, rule.opens, rule.closes, valid_to=jst(2025, 6, 2, 0, 0).date())
            for rule in gone.rules
        )
    )
    assert s2(jst(2025, 6, 3, 10, 0), candidate(gone)) == jst(2025, 6, 4, 9, 15)


@pytest.mark.parametrize("severity", [Severity.S0, Severity.S1])
def test_levels_that_are_never_handed_off_have_no_deadline(severity: Severity) -> None:
    with pytest.raises(ValueError):
        POLICY.deadline(severity, offered_at=jst(2025, 6, 2, 10, 0), candidate=None)
