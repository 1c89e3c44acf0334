"""Opening hours after HSDS `schedule` (weekly rules), Japanese holidays, "open now", "next opening".

Everything is in Japan time (Asia/Tokyo, no daylight saving). A rule is HSDS's WEEKLY schedule:
the days (`byday`), `opens_at` and `closes_at`, optionally `valid_from` / `valid_to`. A rule that
closes at or before it opens runs past midnight (a night line 17:00–09:00). `closes_at` may be
24:00. Public bodies close on national holidays (`jpholiday`) and for the year-end closure
12/29–1/3 (行政機関の休日); a round-the-clock service stays open on those days, because being
staffed every hour of every day is what "24 hours" means (a 児童相談所's 189 line, for example).
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import jpholiday

JST = ZoneInfo("Asia/Tokyo")
DAY_MINUTES = 24 * 60
# How far ahead "next opening" looks: past the longest closure (year-end plus a weekend).
HORIZON_DAYS = 21


class Weekday(StrEnum):
    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


ALL_DAYS = frozenset(Weekday)
_WEEKDAYS = tuple(Weekday)  # date.weekday() order: Monday first


def parse_clock(text: str) -> int:
    """'09:00', '9:00', '09:00:00' or '24:00' → minutes after midnight (0–1440)."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"{text!r}: a time is HH:MM (00:00–24:00)")
    hours, minutes = int(parts[0]), int(parts[1])
    if len(parts) == 3 and int(parts[2]) != 0:
        raise ValueError(f"{text!r}: hours are kept to the minute")
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text!r}: a time is HH:MM (00:00–24:00)")
    return hours * 60 + minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class WeeklyRule:
    days: frozenset[Weekday]
    opens: int  # minutes after midnight
    closes: int  # 1–1440; at or before `opens` means the next day
    valid_from: date | None = None
    valid_to: date | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not self.days:
            raise ValueError("a schedule names at least one day")
        if not (0 <= self.opens < DAY_MINUTES and 0 < self.closes <= DAY_MINUTES):
            raise ValueError("opens_at is 00:00–23:59 and closes_at 00:01–24:00")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")

    @property
    def length(self) -> timedelta:
        if self.closes > self.opens:
            return timedelta(minutes=self.closes - self.opens)
        return timedelta(minutes=DAY_MINUTES - self.opens + self.closes)

    @property
    def round_the_clock(self) -> bool:
        return self.days == ALL_DAYS and self.opens == 0 and self.closes == DAY_MINUTES

    def applies_on(self, day: date) -> bool:
        if _WEEKDAYS[day.weekday()] not in self.days:
            return False
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_to and day > self.valid_to)


def is_year_end_closure(day: date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


@functools.lru_cache(maxsize=4096)
def is_public_body_closed(day: date) -> bool:
    """行政機関の休日 besides weekends: national holidays and 12/29–1/3."""
    return is_year_end_closure(day) or jpholiday.is_holiday(day)


@dataclass(frozen=True)
class Hours:
    """An organisation's service hours as a whole, with its holiday rule."""

    rules: tuple[WeeklyRule, ...]
    closes_on_public_holidays: bool = False

    @property
    def published(self) -> bool:
        return bool(self.rules)

    @property
    def round_the_clock(self) -> bool:
        return any(rule.round_the_clock for rule in self.rules)

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        closed_day = self.closes_on_public_holidays and is_public_body_closed(day)
        found = []
        for rule in self.rules:
            if not rule.applies_on(day) or (closed_day and not rule.round_the_clock):
                continue
            opens = datetime.combine(day, time(), JST) + timedelta(minutes=rule.opens)
            found.append((opens, opens + rule.length))
        return found

    def state_at(self, at: datetime) -> "OpenState":
        """Open now (and until when), or closed and when it opens next, in Japan time."""
        if not self.rules:
            return OpenState(open_now=True, hours_published=False)
        if self.round_the_clock:
            return OpenState(open_now=True, round_the_clock=True)
        local = at.astimezone(JST)
        today = local.date()
        # Yesterday too: a night rule that began yesterday may still be running.
        running = [
            end
            for day in (today - timedelta(days=1), today)
            for start, end in self._intervals(day)
            if start <= local < end
        ]
        if running:
            return OpenState(open_now=True, open_until=max(running))
        # Day by day, stopping at the first day that still has an opening ahead: matching asks
        # this of every organisation in the area, so it must not build three weeks each time.
        for offset in range(HORIZON_DAYS + 1):
            starts = [s for s, _ in self._intervals(today + timedelta(days=offset)) if s > local]
            if starts:
                return OpenState(open_now=False, next_opening=min(starts))
        return OpenState(open_now=False)


@dataclass(frozen=True)
class OpenState:
    open_now: bool
    open_until: datetime | None = None
    next_opening: datetime | None = None  # None while open, or when nothing is scheduled ahead
    round_the_clock: bool = False
    hours_published: bool = True


def weekly(days: Sequence[str], opens_at: str, closes_at: str) -> WeeklyRule:
    """Shorthand for tests and sample data: weekly(['MO','TU'], '09:00', '17:00')."""
    return WeeklyRule(frozenset(Weekday(d) for d in days), parse_clock(opens_at), parse_clock(closes_at))


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
