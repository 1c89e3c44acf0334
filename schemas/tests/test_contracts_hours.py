"""Opening hours in Japan time: weekly rules, night lines, national holidays and year-end closure."""

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.hours import (
    JST,
    Hours,
    HoursBasis,
    OpeningHours,
    WeeklyRule,
    is_public_body_closed,
    parse_clock,
    weekly,
)

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


def test_round_the_clock_is_open_even_on_holidays() -> None:
    always = Hours((weekly(["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "00:00", "24:00"),), True)

    state = always.state_at(at("2026-01-01T03:00"))
    assert state.open_now and state.round_the_clock and state.basis is HoursBasis.ROUND_THE_CLOCK


def test_no_published_hours_is_unknown_not_open() -> None:
    unpublished = Hours.of((), public_body=False).state_at(at("2026-05-04T10:00"))

    assert unpublished.open_now is None and not unpublished.known and not unpublished.closed
    assert unpublished.basis is HoursBasis.UNKNOWN


@pytest.mark.parametrize(
    ("when", "open_now"),
    [
        ("2026-05-07T10:00", True),  # Thursday after Golden Week
        ("2026-05-04T10:00", False),  # みどりの日
        ("2025-12-31T10:00", False),  # 年末年始
        ("2026-05-07T08:00", False),
        ("2026-05-07T17:14", True),
        ("2026-05-07T17:15", False),
    ],
)
def test_a_public_body_without_published_hours_keeps_a_public_offices(when: str, open_now: bool) -> None:
    hours = Hours.of((), public_body=True)

    state = hours.state_at(at(when))
    assert state.open_now is open_now and state.basis is HoursBasis.PUBLIC_OFFICE_DEFAULT


def test_open_time_is_counted_through_the_hours_and_past_midnight() -> None:
    night = Hours((weekly(["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "18:00", "08:00"),))

    # 07:00: one hour of last night's shift, then from 18:00.
    assert night.add_open_time(at("2026-03-04T07:00"), timedelta(hours=3)) == at("2026-03-04T20:00")
    assert Hours(()).add_open_time(at("2026-03-04T07:00"), timedelta(hours=3)) is None


def test_overlapping_rules_count_their_shared_time_once() -> None:
    overlapping = Hours((weekly(["MO"], "09:00", "17:00"), weekly(["MO"], "12:00", "20:00")))

    assert overlapping.add_open_time(at("2026-03-02T09:00"), timedelta(hours=10)) == at("2026-03-02T19:00")


def test_hours_travel_on_the_wire_unchanged() -> None:
    hours = Hours((OFFICE, weekly(["SA"], "22:00", "06:00")), closes_on_public_holidays=True)

    wire = OpeningHours.model_validate_json(OpeningHours.of(hours).model_dump_json())
    assert wire.hours() == hours and wire.basis is HoursBasis.PUBLISHED
    assert OpeningHours.of(Hours.public_office()).hours() == Hours.public_office()


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
