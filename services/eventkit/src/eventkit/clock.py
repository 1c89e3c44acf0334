"""The services' idea of now: the system clock, or one that runs from a chosen instant.

A rehearsal clock starts at an instant (a Golden Week night, New Year's Eve) and then advances in
real time: the real pipeline decides as it would at that moment, for a campaign rehearsal or a
scenario test. Nothing stored is back-dated by it beyond what that moment implies.
"""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_from(start: datetime) -> Clock:
    """A clock that reads `start` now and advances with the system clock from here on."""
    offset = start - datetime.now(UTC)

    def now() -> datetime:
        return datetime.now(UTC) + offset

    return now
