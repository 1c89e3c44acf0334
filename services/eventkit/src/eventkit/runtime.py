"""What every service runs besides its HTTP edge: pool, producer, outbox relay, consumer, workers.

A service's `main.py` builds one `ServiceRuntime`; the HTTP app starts and stops it. `Loops` says
which of the background loops run: all of them in production, fewer in a test of the HTTP edge.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from contracts.events import Event
from contracts.topics import dead_letter_topic
from eventkit import telemetry
from eventkit.consumer import EventConsumer, Handler
from eventkit.db import MigrationSource, create_pool, migrate
from eventkit.kafka import make_producer
from eventkit.metrics import MetricsServer, Sampler, StateCount, expect_dead_letters
from eventkit.outbox import OutboxRelay
from eventkit.settings import ServiceSettings

log = logging.getLogger(__name__)


class Worker(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...

    async def closed(self) -> None: ...


WorkerFactory = Callable[["ServiceRuntime"], Worker]


@dataclass(frozen=True)
class Loops:
    """Which background loops `ServiceRuntime.start()` runs; the pool and the producer always start.

    A test of the HTTP edge on the shared broker turns them off: a consumer would join the running
    service's group and take its messages, a relay would publish the test's outbox rows to the
    running services (they stay in the test's database to be read), and a periodic job would act
    at its own pace where the test drives it.
    """

    consumer: bool = True
    relay: bool = True
    # The service's own periodic jobs (scheduler, purge, delivery …), not the metrics sampler.
    workers: bool = True


EVERY_LOOP: Final = Loops()
NO_LOOPS: Final = Loops(consumer=False, relay=False, workers=False)


@dataclass
class ServiceRuntime:
    name: str
    settings: ServiceSettings
    migrations: Sequence[MigrationSource]
    handlers: Mapping[type[Event], Handler] = field(default_factory=dict)
    worker_factories: Sequence[WorkerFactory] = ()
    # The service's own gauges by state (handoffs, deliveries), sampled for /metrics.
    state_counts: Sequence[StateCount] = ()
    loops: Loops = EVERY_LOOP
    # Set by start(); services reach them through their deps.
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._pool: asyncpg.Pool | None = None
        self._producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.consumer: EventConsumer | None = None
        self._workers: list[Worker] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._metrics: MetricsServer | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the runtime has not started")
        return self._pool

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the runtime has not started")
        return self._producer

    async def start(self) -> None:
        dsn = self.settings.database_url.get_secret_value()
        applied = await _retry("database", lambda: migrate(dsn, self.migrations))
        if applied:
            log.info("%s: applied %d migrations", self.name, len(applied))
        self._pool = await create_pool(
            dsn, min_size=self.settings.db_pool_min, max_size=self.settings.db_pool_max
        )
        security = self.settings.kafka_security()
        producer = make_producer(
            self.settings.kafka_bootstrap_servers, client_id=self.name, security=security
        )
        await _retry("kafka", producer.start)
        self._producer = producer
        if self.loops.relay:
            self.relay = OutboxRelay(
                dsn=dsn,
                pool=self._pool,
                producer=producer,
                poll_interval_s=self.settings.outbox_poll_interval_s,
            )
            self._spawn("outbox-relay", self.relay)
        if self.handlers and self.loops.consumer:
            self.consumer = EventConsumer(
                group=self.name,
                handlers=self.handlers,
                pool=self._pool,
                producer=producer,
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                security=security,
                max_attempts=self.settings.consumer_max_attempts,
                retry_base_s=self.settings.consumer_retry_base_s,
                batch_size=self.settings.consumer_batch_size,
            )
            self._spawn("consumer", self.consumer)
        for factory in self.worker_factories if self.loops.workers else ():
            worker = factory(self)
            self._workers.append(worker)
            self._spawn(type(worker).__name__, worker)
        if self.settings.metrics_port is not None:
            self._metrics = MetricsServer(self.settings.http_host, self.settings.metrics_port)
            self._metrics.start()
            if self.consumer is not None:
                expect_dead_letters(self.name, (dead_letter_topic(t) for t in self.consumer.topics))
            sampler = Sampler(
                self.name,
                self._pool,
                counts=self.state_counts,
                consumer=lambda: self.consumer.kafka if self.consumer is not None else None,
            )
            self._workers.append(sampler)
            self._spawn("metrics-sampler", sampler)

    def _spawn(self, name: str, worker: Worker) -> None:
        self._tasks.append(asyncio.create_task(self._supervise(name, worker), name=name))

    async def _supervise(self, name: str, worker: Worker) -> None:
        # A bug in a loop must not silently stop the pipeline: log it and start the loop again. A
        # crashed run keeps what the worker holds for the next; if none follows, it is closed here.
        delay = 1.0
        crashed = False
        try:
            while not self._stopping:
                try:
                    crashed = False
                    await worker.run()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    crashed = True
                    log.exception("%s: %s crashed; restarting in %.0fs", self.name, name, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
        finally:
            if crashed:
                await worker.closed()

    async def stop(self) -> None:
        """Graceful: consumers finish the message in hand, the relay its batch, then we close."""
        self._stopping = True
        if self.consumer is not None:
            self.consumer.stop()
        for worker in self._workers:
            worker.stop()
        if self.relay is not None:
            self.relay.stop()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self.settings.shutdown_grace_s)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(BaseException):
                    await task
        if self._producer is not None:
            await self._producer.stop()
        if self._pool is not None:
            await self._pool.close()
        if self._metrics is not None:
            self._metrics.stop()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            with telemetry.quiet():
                await asyncio.wait_for(self.pool.fetchval("SELECT 1"), 2.0)
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 2.0)
            checks["kafka"] = "ok"
        except Exception as error:
            checks["kafka"] = f"unreachable: {type(error).__name__}"
        if self.relay is not None:
            checks["outbox_relay"] = "leader" if self.relay.is_leader else "standby"
        if self.consumer is not None:
            checks["consumer"] = "running" if self.consumer.is_running else "starting"
        return checks


async def _retry(what: str, action: Callable[[], Any], *, timeout_s: float = 60.0) -> Any:
    """Wait for infrastructure at start-up with a clear message instead of a crash loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    delay = 0.5
    while True:
        try:
            return await action()
        except (OSError, KafkaError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError) as error:
            if loop.time() > deadline:
                raise RuntimeError(f"{what} unreachable after {timeout_s:.0f}s: {error}") from error
            log.warning("waiting for %s (%s)", what, type(error).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
