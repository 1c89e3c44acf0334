"""The services' idea of now: the system clock, or one that runs from a chosen instant.

A rehearsal clock starts at an instant (a Golden Week night, New Year's Eve) and then advances in
real time: the real pipeline decides as it would at that moment, for a campaign rehearsal or a
scenario test. Nothing stored is back-dated by it beyond what that moment implies.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_from(start: datetime) -> Clock:
    """A clock that reads `start` now and advances with the system clock from here on."""
    offset = start - datetime.now(UTC)

    def now() -> datetime:
        return datetime.now(UTC) + offset

    return now


class MovableClock:
    """A clock tests move instead of sleeping: `clock()` reads it, `advance()` moves it on."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self.now = at
