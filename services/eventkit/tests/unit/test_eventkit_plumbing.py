"""The plumbing every service shares: workers that survive a lost database and stop on request,
domain errors mapped to HTTP in one table, a clock tests move."""

import asyncio
from datetime import UTC, datetime, timedelta

from eventkit.clock import MovableClock, clock_from
from eventkit.errors import Conflict, Invalid, NotFound, Unavailable, invalid, not_found
from eventkit.http import as_api_error, status_of
from eventkit.worker import PollingWorker


class Flaky(PollingWorker):
    name = "flaky"

    def __init__(self) -> None:
        super().__init__(interval_s=0.01)
        self.rounds = 0

    async def poll_once(self) -> bool:
        self.rounds += 1
        if self.rounds == 1:
            raise OSError("the database went away")
        if self.rounds >= 4:
            self.stop()
        return False


async def test_a_worker_backs_off_when_its_database_is_away_and_goes_on() -> None:
    worker = Flaky()

    await asyncio.wait_for(worker.run(), timeout=5)

    assert worker.rounds == 4 and worker.stopping


async def test_a_stopped_worker_never_pauses_again() -> None:
    worker = Flaky()
    worker.stop()

    await asyncio.wait_for(worker.sleep(60), timeout=1)


class Reassigned(Conflict):
    code = "reassigned"


def test_domain_errors_answer_with_their_kinds_status_and_their_own_code() -> None:
    assert [
        status_of(e) for e in (not_found("referral"), Reassigned("moved on"), invalid("body.x", "bad"))
    ] == [
        404,
        409,
        422,
    ]
    assert status_of(Unavailable("LINE refused")) == 502
    answer = as_api_error(Reassigned("It moved on."))
    assert (answer.status, answer.code, answer.message) == (409, "reassigned", "It moved on.")
    assert isinstance(invalid("body.x", "bad"), Invalid) and isinstance(not_found("x"), NotFound)


def test_clocks_move_when_told_and_a_rehearsal_clock_starts_where_asked() -> None:
    start = datetime(2027, 5, 3, 2, 0, tzinfo=UTC)
    clock = MovableClock(start)
    clock.advance(minutes=30)
    assert clock() == start + timedelta(minutes=30)
    assert abs(clock_from(start)() - start) < timedelta(seconds=1)
