"""A loop that crashes is run again on what it holds (an HTTP client, the outbox's fast path), and
is closed once, when it stops for good: after its last round, or when no new run follows a crash."""

import asyncio
from types import SimpleNamespace

import pytest

from eventkit.runtime import ServiceRuntime
from eventkit.worker import PollingWorker


class CrashesOnce(PollingWorker):
    name = "crashes-once"

    def __init__(self, *, stop_after: int) -> None:
        super().__init__(interval_s=0.01)
        self.rounds = 0
        self.closings = 0
        self.stop_after = stop_after
        self.crashed = asyncio.Event()

    async def poll_once(self) -> bool:
        self.rounds += 1
        if self.rounds == 1:
            self.crashed.set()
            raise RuntimeError("a bug in the loop")
        if self.rounds >= self.stop_after:
            self.stop()
        return False

    async def closed(self) -> None:
        self.closings += 1


async def test_a_crashed_run_keeps_what_the_worker_holds_and_the_last_round_closes_it() -> None:
    worker = CrashesOnce(stop_after=3)
    with pytest.raises(RuntimeError):
        await worker.run()
    assert worker.closings == 0  # the next run uses the same client
    await asyncio.wait_for(worker.run(), timeout=5)
    assert (worker.rounds, worker.closings) == (3, 1)


async def test_the_supervisor_runs_a_crashed_worker_again_and_it_is_closed_once() -> None:
    runtime = SimpleNamespace(name="test", _stopping=False)
    worker = CrashesOnce(stop_after=3)
    await asyncio.wait_for(ServiceRuntime._supervise(runtime, "crashes-once", worker), timeout=10)  # type: ignore[arg-type]
    assert (worker.rounds, worker.closings) == (3, 1)


async def test_a_worker_that_crashed_just_before_the_runtime_stopped_is_closed_by_the_supervisor() -> None:
    runtime = SimpleNamespace(name="test", _stopping=False)
    worker = CrashesOnce(stop_after=99)
    supervising = asyncio.create_task(ServiceRuntime._supervise(runtime, "crashes-once", worker))  # type: ignore[arg-type]
    await asyncio.wait_for(worker.crashed.wait(), timeout=5)
    runtime._stopping = True  # during the pause before the next run
    await asyncio.wait_for(supervising, timeout=10)
    assert (worker.rounds, worker.closings) == (1, 1)
