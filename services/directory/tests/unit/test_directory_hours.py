"""Opening hours in Japan time: weekly rules, night lines, national holidays and year-end closure."""

from datetime import UTC, date, datetime

import pytest

from directory.hours import JST, Hours, WeeklyRule, is_public_body_closed, parse_clock, weekly

pytestmark = pytest.mark.unit

OFFICE = weekly(["MO", "TU", "WE", "TH", "FR"], "08:30", "17:15")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


def test_an_office_is_open_in_its_hours_and_otherwise_says_when_it_opens() -> None:
    hours = Hours((OFFICE,))

    assert hours.state_at(at("2026-03-04T10:00")).open_until == at("2026-03-04T17:15")
    closed = hours.state_at(at("2026-03-06T18:00"))  # Friday evening
    assert not closed.open_now and closed.next_opening == at("2026-03-09T08:30")


def test_the_time_is_read_in_japan_whatever_the_zone_it_arrives_in() -> None:
    hours = Hours((OFFICE,))

    # 01:30 UTC is 10:30 in Tokyo.
    assert hours.state_at(datetime(2026, 3, 4, 1, 30, tzinfo=UTC)).open_now


def test_a_night_line_runs_past_midnight() -> None:
    night = Hours((weekly(["FR"], "20:00", "06:00"),))

    assert night.state_at(at("2026-03-07T02:00")).open_now  # Saturday 02:00, Friday's shift
    assert not night.state_at(at("2026-03-07T07:00")).open_now


@pytest.mark.parametrize(
    ("day", "closed"),
    [
        (date(2025, 12, 29), True),
        (date(2026, 1, 3), True),
        (date(2026, 1, 4), False),  # a Sunday: closed by the schedule, not by this rule
        (date(2026, 1, 12), True),  # 成人の日
        (date(2026, 5, 6), True),  # 振替休日
        (date(2026, 3, 4), False),
    ],
)
def test_public_bodies_close_on_national_holidays_and_12_29_to_1_3(day: date, closed: bool) -> None:
    assert is_public_body_closed(day) is closed


def test_a_public_body_reopens_after_the_year_end_while_others_keep_their_weekdays() -> None:
    public = Hours((OFFICE,), closes_on_public_holidays=True)
    npo = Hours((OFFICE,))

    assert public.state_at(at("2025-12-26T18:00")).next_opening == at("2026-01-05T08:30")
    assert npo.state_at(at("2025-12-30T10:00")).open_now


def test_round_the_clock_is_open_even_on_holidays_and_no_hours_means_unpublished() -> None:
    always = Hours((weekly(["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "00:00", "24:00"),), True)

    assert always.state_at(at("2026-01-01T03:00")).round_the_clock
    unpublished = Hours(()).state_at(at("2026-01-01T03:00"))
    assert unpublished.open_now and not unpublished.hours_published


def test_valid_from_and_to_bound_a_rule() -> None:
    summer = WeeklyRule(
        frozenset(OFFICE.days), 510, 1035, valid_from=date(2026, 7, 1), valid_to=date(2026, 8, 31)
    )

    # Months away is beyond the three weeks "next opening" looks ahead: no upcoming hours.
    assert Hours((summer,)).state_at(at("2026-03-04T10:00")).next_opening is None
    assert Hours((summer,)).state_at(at("2026-06-25T10:00")).next_opening == at("2026-07-01T08:30")
    assert not Hours((summer,)).state_at(at("2026-09-01T10:00")).open_now


@pytest.mark.parametrize("text", ["25:00", "9", "09:60", "24:01", "aa:bb", "09:00:30"])
def test_bad_clock_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(text)
