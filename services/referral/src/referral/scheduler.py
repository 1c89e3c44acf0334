"""The deadline scheduler: fires due handoff timers stored in PostgreSQL. Any number may run.

Each timer fires in one transaction: claim it (`FOR UPDATE SKIP LOCKED`, so another replica
skips it instead of waiting), expire its attempt and move the referral on (events through the
outbox), mark it fired, commit. A crash before the commit leaves the timer due, and whoever runs
next fires it; after the commit it is never claimed again. Nothing sleeps until a deadline: the
loop polls, and the clock it compares with is injected, so tests drive time instead of waiting.
"""

import logging
from datetime import timedelta

import asyncpg
from opentelemetry import propagate
from opentelemetry.trace import SpanKind

from eventkit import telemetry
from eventkit.worker import PollingWorker
from referral.lifecycle import repository, service
from referral.lifecycle.service import Lifecycle

log = logging.getLogger(__name__)

POISON_RETRY = timedelta(seconds=60)


class DeadlineScheduler(PollingWorker):
    """Polls every `poll_interval_s`, at once again while a whole batch fired (eventkit.worker
    gives it the graceful stop and the back-off while the database is away)."""

    name = "deadline scheduler"

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        lifecycle: Lifecycle,
        poll_interval_s: float = 1.0,
        batch_size: int = 100,
    ) -> None:
        super().__init__(interval_s=poll_interval_s)
        self._pool = pool
        self._lifecycle = lifecycle
        self._batch_size = batch_size

    async def poll_once(self) -> bool:
        return await self.run_once() >= self._batch_size

    async def run_once(self) -> int:
        """Fire the timers due now, one transaction each; returns how many fired."""
        fired = 0
        while fired < self._batch_size and not self.stopping:
            if not await self._fire_one():
                break
            fired += 1
        return fired

    async def _fire_one(self) -> bool:
        now = self._lifecycle.clock()
        async with self._pool.acquire() as conn:
            transaction = conn.transaction()
            # The idle poll would otherwise make a root trace of every empty query.
            with telemetry.quiet():
                await transaction.start()
                try:
                    timer = await repository.claim_due_timer(conn, now=now)
                except BaseException:
                    await transaction.rollback()
                    raise
            if timer is None:
                with telemetry.quiet():
                    await transaction.rollback()
                return False
            try:
                # In the case's trace: the expiry and the next offer continue the consultation's story.
                with telemetry.tracer().start_as_current_span(
                    "handoff deadline",
                    context=propagate.extract(timer.trace_headers),
                    kind=SpanKind.INTERNAL,
                    attributes={
                        telemetry.REFERRAL_ID: str(timer.referral_id),
                        telemetry.DELIVERY_ATTEMPT: timer.attempt,
                    },
                ):
                    await service.fire_deadline(conn, timer=timer, lifecycle=self._lifecycle, now=now)
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, TimeoutError):
                await transaction.rollback()
                raise  # the database, not the timer: the worker backs off and the timer stays due
            except Exception as error:
                await transaction.rollback()
                # A timer that cannot fire must not block the ones behind it: try it again later.
                log.error(
                    "deadline of referral %s attempt %d failed (%s); retrying in %.0fs",
                    timer.referral_id,
                    timer.attempt,
                    type(error).__name__,
                    POISON_RETRY.total_seconds(),
                )
                await repository.postpone_timer(conn, timer_id=timer.id, until=now + POISON_RETRY)
                return True
            await transaction.commit()
            return True
