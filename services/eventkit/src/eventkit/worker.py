"""The long-running loops every service has: the outbox relay, the delivery senders, the deadline
scheduler, the retention purge. One shape for all: a graceful stop, a wake-up for work that is
announced (LISTEN/NOTIFY), and a back-off when the database is away — the loop never dies of it.
"""

import asyncio
import contextlib
import logging

import asyncpg

log = logging.getLogger(__name__)

# Losing the database is not a bug in the loop: wait and try again, with a growing pause.
DATABASE_AWAY: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 10.0


class Worker:
    """Runs `work()` until stopped; `work()` may return (it is called again) or loop itself."""

    name = "worker"

    def __init__(self) -> None:
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Work was announced: cut the current pause short."""
        self._wake.set()

    async def sleep(self, seconds: float) -> None:
        """Pause until `seconds` pass, the worker is woken, or it is stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()
        if self.stopping:
            self._wake.set()  # a stopped worker never pauses again

    async def run(self) -> None:
        backoff = BACKOFF_FIRST_S
        log.info("%s is running", self.name)
        crashed = False
        try:
            while not self.stopping:
                try:
                    await self.work()
                    backoff = BACKOFF_FIRST_S
                except DATABASE_AWAY as error:
                    log.warning(
                        "%s lost its database (%s); retrying in %.1fs",
                        self.name,
                        type(error).__name__,
                        backoff,
                    )
                    await self.sleep(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
        except Exception:
            # A bug: the runtime's supervisor runs it again, on what it holds (an HTTP client, the
            # outbox's fast path), and closes it if it stops instead.
            crashed = not self.stopping
            raise
        finally:
            if not crashed:
                await self.closed()

    async def work(self) -> None:
        raise NotImplementedError

    async def closed(self) -> None:
        """After the last round (stopped or cancelled, not a crash that is run again): release what
        the worker holds (an HTTP client, say)."""


class PollingWorker(Worker):
    """Calls `poll_once()` every `interval_s`, at once again while it reports a full batch."""

    def __init__(self, *, interval_s: float) -> None:
        super().__init__()
        self.interval_s = interval_s

    async def work(self) -> None:
        if not await self.poll_once():
            await self.sleep(self.interval_s)

    async def poll_once(self) -> bool:
        """One round of work; True if there may be more right away."""
        raise NotImplementedError
