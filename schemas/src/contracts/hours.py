"""Opening hours after HSDS `schedule` (weekly rules), Japanese holidays, "open now", "next opening".

Everything is in Japan time (Asia/Tokyo, no daylight saving). A rule is HSDS's WEEKLY schedule:
the days (`byday`), `opens_at` and `closes_at`, optionally `valid_from` / `valid_to`. A rule that
closes at or before it opens runs past midnight (a night line 17:00–09:00). `closes_at` may be
24:00. Public bodies close on national holidays (`jpholiday`) and for the year-end closure
12/29–1/3 (行政機関の休日); a round-the-clock service stays open on those days, because being
staffed every hour of every day is what "24 hours" means (a 児童相談所's 189 line, for example).

No published hours is *unknown*, not "open": nobody can say whether the office is staffed now.
A public body that published none keeps the public-office default instead (weekdays 08:30–17:15,
closed on holidays). The directory decides "open now" with this module, the referral service
counts an S2 deadline through the chosen organisation's own hours with it, and `OpeningHours`
carries them from the one to the other.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import jpholiday
from pydantic import BaseModel, ConfigDict, Field

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


class HoursBasis(StrEnum):
    """Where an organisation's hours come from: what "open now" can be trusted to mean."""

    PUBLISHED = "published"  # its own weekly schedule
    ROUND_THE_CLOCK = "round_the_clock"  # staffed every hour of every day, holidays included
    PUBLIC_OFFICE_DEFAULT = "public_office_default"  # a public office that published none
    UNKNOWN = "unknown"  # none published: open or not, nobody can say


# 行政機関の休日に関する法律 and the usual 執務時間 of a public office: weekdays 08:30–17:15,
# closed on national holidays and 12/29–1/3. What a public body with no published hours keeps.
PUBLIC_OFFICE_OPENS = 8 * 60 + 30
PUBLIC_OFFICE_CLOSES = 17 * 60 + 15


@dataclass(frozen=True)
class Hours:
    """An organisation's service hours as a whole, with its holiday rule."""

    rules: tuple[WeeklyRule, ...]
    closes_on_public_holidays: bool = False
    defaulted: bool = False  # the public-office default stands in for unpublished hours

    @classmethod
    def of(cls, rules: Sequence[WeeklyRule], *, public_body: bool) -> "Hours":
        """The hours to go by: the published ones, else the public-office default for a public
        body, else none (unknown)."""
        if rules:
            return cls(tuple(rules), public_body)
        if public_body:
            return cls.public_office()
        return cls(())

    @classmethod
    def public_office(cls) -> "Hours":
        weekdays = frozenset(_WEEKDAYS[:5])
        return cls((WeeklyRule(weekdays, PUBLIC_OFFICE_OPENS, PUBLIC_OFFICE_CLOSES),), True, defaulted=True)

    @property
    def published(self) -> bool:
        return bool(self.rules)

    @property
    def round_the_clock(self) -> bool:
        return any(rule.round_the_clock for rule in self.rules)

    @property
    def basis(self) -> HoursBasis:
        if not self.rules:
            return HoursBasis.UNKNOWN
        if self.round_the_clock:
            return HoursBasis.ROUND_THE_CLOCK
        return HoursBasis.PUBLIC_OFFICE_DEFAULT if self.defaulted else HoursBasis.PUBLISHED

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
        """Open now (and until when), or closed and when it opens next, in Japan time; or, without
        any hours to go by, unknown (`open_now` None)."""
        if not self.rules:
            return OpenState(open_now=None, basis=HoursBasis.UNKNOWN)
        if self.round_the_clock:
            return OpenState(open_now=True, basis=HoursBasis.ROUND_THE_CLOCK)
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
            return OpenState(open_now=True, open_until=max(running), basis=self.basis)
        # Day by day, stopping at the first day that still has an opening ahead: matching asks
        # this of every organisation in the area, so it must not build three weeks each time.
        for offset in range(HORIZON_DAYS + 1):
            starts = [s for s, _ in self._intervals(today + timedelta(days=offset)) if s > local]
            if starts:
                return OpenState(open_now=False, next_opening=min(starts), basis=self.basis)
        return OpenState(open_now=False, basis=self.basis)

    def add_open_time(self, start: datetime, duration: timedelta) -> datetime | None:
        """When `duration` of this organisation's open time has passed after `start` (in Japan
        time), or None when its hours do not give that much within a year."""
        if duration <= timedelta(0):
            return start.astimezone(JST)
        if self.round_the_clock:
            return start.astimezone(JST) + duration
        remaining = duration
        cursor = start.astimezone(JST)
        day = cursor.date() - timedelta(days=1)  # a night rule of yesterday may still be running
        for _ in range(400):
            # Overlapping rules (a day shift and a night line) count their shared time once.
            for opens, closes in _merged(self._intervals(day)):
                if closes <= cursor:
                    continue
                begin = max(cursor, opens)
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
                cursor = closes
            day += timedelta(days=1)
        return None


def _merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in sorted(intervals):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


@dataclass(frozen=True)
class OpenState:
    open_now: bool | None  # None: no hours to go by
    open_until: datetime | None = None
    next_opening: datetime | None = None  # None while open, or when nothing is scheduled ahead
    basis: HoursBasis = HoursBasis.PUBLISHED

    @property
    def round_the_clock(self) -> bool:
        return self.basis is HoursBasis.ROUND_THE_CLOCK

    @property
    def known(self) -> bool:
        return self.open_now is not None

    @property
    def closed(self) -> bool:
        """Known to be closed now (unknown hours are not closed: nobody knows)."""
        return self.open_now is False


class ScheduleRule(BaseModel):
    """One weekly rule on the wire (HSDS schedule: byday, opens_at, closes_at)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    days: tuple[Weekday, ...] = Field(min_length=1)
    opens_at: str = Field(description="HH:MM Japan time")
    closes_at: str = Field(description="HH:MM Japan time; at or before opens_at: the next day")
    valid_from: date | None = None
    valid_to: date | None = None

    def rule(self) -> WeeklyRule:
        return WeeklyRule(
            frozenset(self.days),
            parse_clock(self.opens_at),
            parse_clock(self.closes_at),
            self.valid_from,
            self.valid_to,
        )

    @classmethod
    def of(cls, rule: WeeklyRule) -> "ScheduleRule":
        return cls(
            days=tuple(d for d in _WEEKDAYS if d in rule.days),
            opens_at=format_clock(rule.opens),
            closes_at=format_clock(rule.closes),
            valid_from=rule.valid_from,
            valid_to=rule.valid_to,
        )


class OpeningHours(BaseModel):
    """An organisation's hours as matching went by them: enough to count time it is open."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    basis: HoursBasis
    rules: tuple[ScheduleRule, ...] = Field(description="Empty when the basis is unknown.")
    closes_on_public_holidays: bool

    def hours(self) -> Hours:
        return Hours(
            tuple(r.rule() for r in self.rules),
            self.closes_on_public_holidays,
            defaulted=self.basis is HoursBasis.PUBLIC_OFFICE_DEFAULT,
        )

    @classmethod
    def of(cls, hours: Hours) -> "OpeningHours":
        return cls(
            basis=hours.basis,
            rules=tuple(ScheduleRule.of(r) for r in hours.rules),
            closes_on_public_holidays=hours.closes_on_public_holidays,
        )


def weekly(days: Sequence[str], opens_at: str, closes_at: str) -> WeeklyRule:
    """Shorthand for tests and sample data: weekly(['MO','TU'], '09:00', '17:00')."""
    return WeeklyRule(frozenset(Weekday(d) for d in days), parse_clock(opens_at), parse_clock(closes_at))


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
