"""A runtime runs exactly the background loops it is told to, on a real database and broker: the
relay publishes the outbox only when it runs, the consumer and the workers start only when asked,
and the pool and the producer always start (readiness reports what runs)."""

import asyncio
import uuid
from typing import ClassVar

import asyncpg
import pytest

from contracts.events import Event
from contracts.topics import TopicSpec
from eventkit import outbox
from eventkit.auth import generate_signing_keypair
from eventkit.consumer import Message
from eventkit.db import EVENTKIT_MIGRATIONS, MigrationSource
from eventkit.kafka import ensure_topics
from eventkit.runtime import EVERY_LOOP, NO_LOOPS, Loops, ServiceRuntime, Worker
from eventkit.settings import ServiceSettings
from eventkit.testing import Infra

RUN = uuid.uuid4().hex[:8]


class LoopProbed(Event):
    TYPE: ClassVar[str] = f"test.loop_probed.{RUN}.v1"
    TOPIC: ClassVar[str] = f"test.loops.{RUN}.v1"
    SOURCE: ClassVar[str] = "/tests"


async def _ignored(conn: asyncpg.Connection, event: LoopProbed, message: Message) -> None:
    pass


class Idle:
    """A worker that waits to be stopped."""

    def __init__(self) -> None:
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        await self._stopped.wait()

    def stop(self) -> None:
        self._stopped.set()


async def _published(pool: asyncpg.Pool, *, within_s: float) -> bool:
    for _ in range(int(within_s / 0.1)):
        if await pool.fetchval("SELECT bool_and(published_at IS NOT NULL) FROM outbox"):
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.parametrize(
    "loops",
    [EVERY_LOOP, NO_LOOPS, Loops(consumer=False), Loops(relay=False, workers=False)],
    ids=["every-loop", "no-loops", "no-consumer", "consumer-alone"],
)
async def test_a_runtime_runs_exactly_the_loops_it_is_told_to(
    infra: Infra, fresh_database: str, loops: Loops
) -> None:
    await ensure_topics(infra.kafka_bootstrap_servers, [TopicSpec(LoopProbed.TOPIC, 1, "test")])
    workers: list[Idle] = []

    def idle(_: ServiceRuntime) -> Worker:
        workers.append(Idle())
        return workers[-1]

    settings = ServiceSettings(
        database_url=fresh_database,
        auth_public_key=generate_signing_keypair()[1],
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
        db_pool_min=1,
        db_pool_max=2,
        shutdown_grace_s=5,
    )
    runtime = ServiceRuntime(
        name=f"loops-{RUN}",
        settings=settings,
        migrations=[MigrationSource("eventkit", EVENTKIT_MIGRATIONS)],
        handlers={LoopProbed: _ignored},
        worker_factories=[idle],
        loops=loops,
    )
    await runtime.start()
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await outbox.append(conn, LoopProbed(case_id=uuid.uuid4()))
        published = await _published(runtime.pool, within_s=10 if loops.relay else 1)
        checks = await runtime.readiness()
    finally:
        await runtime.stop()

    assert published is loops.relay
    assert (runtime.relay is not None, runtime.consumer is not None) == (loops.relay, loops.consumer)
    assert len(workers) == (1 if loops.workers else 0)
    assert checks["database"] == checks["kafka"] == "ok"
    assert ("outbox_relay" in checks, "consumer" in checks) == (loops.relay, loops.consumer)
