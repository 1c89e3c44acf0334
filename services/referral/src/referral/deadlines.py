"""Acknowledgement deadlines by severity, and business time in Japan. Pure: no I/O.

S4 and S3 count wall-clock time: a serious case does not wait for office hours. S2 counts one
business day of the candidate's: from when it opens (the directory's `next_opening`, when it says
the organisation is closed now) through business hours — 09:00–17:00 Japan time on weekdays that
are neither national holidays (`jpholiday`) nor the 年末年始 closure (12/29–1/3), when public
bodies are shut. The directory tells us when an organisation opens next, not its whole week, so
after that opening the standard calendar is what is counted.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday

from contracts.events import Candidate
from contracts.vocabulary import Severity

JST = ZoneInfo("Asia/Tokyo")


def is_business_day(day: date) -> bool:
    if day.weekday() >= 5 or jpholiday.is_holiday(day):
        return False
    # 行政機関の休日: the year-end closure is not a national holiday, so jpholiday does not know it.
    return not ((day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3))


@dataclass(frozen=True)
class BusinessCalendar:
    opens: time = time(9, 0)
    closes: time = time(17, 0)

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValueError("a business day must close after it opens")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """`start` plus `duration` of business time (an aware datetime, returned in JST)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if duration <= timedelta(0):
            return start.astimezone(JST)
        remaining = duration
        cursor = start.astimezone(JST)
        # A bounded walk: a year of days is far more than any configured deadline needs.
        for _ in range(400):
            day = cursor.date()
            opening = datetime.combine(day, self.opens, JST)
            closing = datetime.combine(day, self.closes, JST)
            if is_business_day(day) and cursor < closing:
                cursor = max(cursor, opening)
                available = closing - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
            cursor = datetime.combine(day + timedelta(days=1), self.opens, JST)
        raise ValueError("no business time found within a year")


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long a partner has to acknowledge, by severity (defaults from the issue)."""

    s4: timedelta = timedelta(minutes=10)
    s3: timedelta = timedelta(minutes=30)
    s2_business: timedelta = timedelta(hours=8)  # one business day of 09:00–17:00
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)

    def deadline(self, severity: Severity, *, offered_at: datetime, candidate: Candidate | None) -> datetime:
        if severity is Severity.S4:
            return offered_at + self.s4
        if severity is Severity.S3:
            return offered_at + self.s3
        if severity is Severity.S2:
            start = offered_at
            if (
                candidate is not None
                and candidate.open_now is not True
                and candidate.next_opening is not None
                and candidate.next_opening > offered_at
            ):
                start = candidate.next_opening
            return self.calendar.add(start, self.s2_business).astimezone(offered_at.tzinfo)
        raise ValueError(f"severity {severity.value} is never handed off")
