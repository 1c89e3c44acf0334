"""The on-call rota: who is on call at a moment, in Japan time, and what a valid shift is. Pure: no I/O.

A weekly shift repeats on its weekdays between two wall-clock times in Japan; one whose end is at
or before its start ends the next day (22:00–07:00 on Monday covers Monday night into Tuesday
morning; 09:00–09:00 is twenty-four hours). A cover shift is one span of time — a swap, a holiday
— and while any cover shift lasts it replaces the weekly pattern: the people it names are on call,
and only they.
"""

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.hours import JST
from eventkit.errors import ErrorDetail, Invalid

MINUTES_A_DAY = 24 * 60
LONGEST_COVER = timedelta(days=31)
_TIME = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Weekly:
    """Every week on `weekdays` (ISO: 1 is Monday; the day the shift starts), from `starts_min` to
    `ends_min`, minutes after midnight in Japan."""

    weekdays: frozenset[int]
    starts_min: int
    ends_min: int

    @property
    def overnight(self) -> bool:
        return self.ends_min <= self.starts_min

    def covers(self, at: datetime) -> bool:
        local = at.astimezone(JST)
        minute = local.hour * 60 + local.minute
        day = local.isoweekday()
        if not self.overnight:
            return day in self.weekdays and self.starts_min <= minute < self.ends_min
        yesterday = 7 if day == 1 else day - 1
        return (day in self.weekdays and minute >= self.starts_min) or (
            yesterday in self.weekdays and minute < self.ends_min
        )


@dataclass(frozen=True)
class Cover:
    """Once, from `starts_at` until `ends_at`; replaces the weekly pattern meanwhile."""

    starts_at: datetime
    ends_at: datetime

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class Shift:
    id: uuid.UUID
    name: str
    email: str
    when: Weekly | Cover
    created_at: datetime
    created_by: str

    @property
    def is_cover(self) -> bool:
        return isinstance(self.when, Cover)


def on_call(shifts: Iterable[Shift], at: datetime) -> tuple[Shift, ...]:
    """Who is on call at `at`: the cover shifts that last at that moment, or else the weekly ones.
    Several people may be on call together (a primary and a second); each is paged."""
    covering = [shift for shift in shifts if shift.when.covers(at)]
    covers = [shift for shift in covering if shift.is_cover]
    return tuple(covers or covering)


def clock_text(minutes: int) -> str:
    """'07:30'; the end of a day is '24:00'."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ---- what a valid shift is --------------------------------------------------


def _minutes(value: str, field: str, problems: list[ErrorDetail], *, end: bool) -> int:
    match = _TIME.match(value.strip())
    minutes = int(match.group(1)) * 60 + int(match.group(2)) if match else -1
    # 24:00 ends a day; it never starts one.
    if not match or minutes > MINUTES_A_DAY or (minutes == MINUTES_A_DAY and not end):
        problems.append(ErrorDetail(field=field, reason="not_a_time"))
        return 0
    return minutes


def _person(name: str, email: str, problems: list[ErrorDetail]) -> tuple[str, str]:
    name, email = name.strip(), email.strip()
    if not 1 <= len(name) <= 100:
        problems.append(ErrorDetail(field="name", reason="required"))
    if len(email) > 254 or not _EMAIL.match(email):
        problems.append(ErrorDetail(field="email", reason="not_an_email_address"))
    return name, email


def _refuse(problems: list[ErrorDetail]) -> None:
    if problems:
        raise Invalid("The shift is not valid: see the fields named in details.", details=problems)


def weekly_shift(
    *, name: str, email: str, weekdays: Sequence[int], starts: str, ends: str
) -> tuple[str, str, Weekly]:
    """The person and the pattern of a weekly shift, or Invalid naming each wrong field."""
    problems: list[ErrorDetail] = []
    person = _person(name, email, problems)
    days = frozenset(weekdays)
    if not days or not days <= set(range(1, 8)):
        problems.append(ErrorDetail(field="weekdays", reason="choose_days_1_to_7"))
    starts_min = _minutes(starts, "starts", problems, end=False)
    ends_min = _minutes(ends, "ends", problems, end=True)
    _refuse(problems)
    return (*person, Weekly(days, starts_min, ends_min))


def cover_shift(
    *, name: str, email: str, starts_at: datetime, ends_at: datetime, now: datetime
) -> tuple[str, str, Cover]:
    """The person and the span of a cover shift: it ends after it starts, not in the past, and
    lasts a month at most (a longer one is a change of the weekly pattern)."""
    problems: list[ErrorDetail] = []
    person = _person(name, email, problems)
    if ends_at <= starts_at:
        problems.append(ErrorDetail(field="ends_at", reason="not_after_start"))
    elif ends_at <= now:
        problems.append(ErrorDetail(field="ends_at", reason="in_the_past"))
    elif ends_at - starts_at > LONGEST_COVER:
        problems.append(ErrorDetail(field="ends_at", reason="longer_than_31_days"))
    _refuse(problems)
    return (*person, Cover(starts_at, ends_at))
