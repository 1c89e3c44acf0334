"""/metrics on a real broker and database: consumer latency and lag, dead letters by topic, the
outbox's backlog and age and a service's counts by state, read over HTTP from the metrics port."""

import asyncio
import contextlib
import socket
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any, ClassVar

import asyncpg
import pytest

from contracts.events import Event
from contracts.topics import TopicSpec, dead_letter_topic
from eventkit import outbox
from eventkit.consumer import EventConsumer, Message
from eventkit.db import EVENTKIT_MIGRATIONS, MigrationSource, create_pool, migrate
from eventkit.envelope import new_envelope, to_kafka_headers
from eventkit.kafka import ensure_topics, make_producer
from eventkit.metrics import MetricsServer, Sampler, StateCount
from eventkit.testing import Infra

RUN = uuid.uuid4().hex[:8]
PERSONAL = "山田花子 090-1234-5678"


class GaugeProbed(Event):
    TYPE: ClassVar[str] = f"test.gauge_probed.{RUN}.v1"
    TOPIC: ClassVar[str] = f"test.gauges.{RUN}.v1"
    SOURCE: ClassVar[str] = "/tests"

    n: int


TOPICS = [TopicSpec(GaugeProbed.TOPIC, 2, "test"), TopicSpec(dead_letter_topic(GaugeProbed.TOPIC), 1, "dlt")]


async def _applied(conn: asyncpg.Connection, event: GaugeProbed, message: Message) -> None:
    await conn.execute("INSERT INTO probes (n) VALUES ($1)", event.n)


async def _probes_by_parity(pool: asyncpg.Pool) -> Iterable[tuple[str, float]]:
    rows = await pool.fetch(
        "SELECT CASE WHEN n % 2 = 0 THEN 'even' ELSE 'odd' END AS s, count(*) FROM probes GROUP BY 1"
    )
    return [(r["s"], float(r["count"])) for r in rows]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def pool(infra: Infra, fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    await ensure_topics(infra.kafka_bootstrap_servers, TOPICS)
    await migrate(fresh_database, [MigrationSource("eventkit", EVENTKIT_MIGRATIONS)])
    created = await create_pool(fresh_database, min_size=1, max_size=5)
    await created.execute("CREATE TABLE probes (n int NOT NULL)")
    try:
        yield created
    finally:
        await created.close()


async def _until_applied(pool: asyncpg.Pool, count: int) -> None:
    for _ in range(200):
        if await pool.fetchval("SELECT count(*) FROM probes") >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the consumer did not apply the probes")


async def test_the_metrics_port_serves_consumer_dead_letter_outbox_and_state_metrics_without_personal_data(
    infra: Infra, pool: asyncpg.Pool
) -> None:
    producer = make_producer(infra.kafka_bootstrap_servers, client_id="metrics-test")
    await producer.start()
    service = f"svc-{RUN}"
    consumer = EventConsumer(
        group=service,
        handlers={GaugeProbed: _applied},
        pool=pool,
        producer=producer,
        bootstrap_servers=infra.kafka_bootstrap_servers,
    )
    task = asyncio.create_task(consumer.run())
    server = MetricsServer("127.0.0.1", _free_port())
    server.start()
    try:
        case = uuid.uuid4()
        for n in (1, 2, 3):
            event = GaugeProbed(case_id=case, n=n)
            headers = to_kafka_headers(new_envelope(event).headers())
            await producer.send_and_wait(
                GaugeProbed.TOPIC, event.model_dump_json().encode(), str(case).encode(), headers=headers
            )
        poison = to_kafka_headers(new_envelope(GaugeProbed(case_id=case, n=4)).headers())
        await producer.send_and_wait(
            GaugeProbed.TOPIC, f"{{{PERSONAL}".encode(), str(case).encode(), headers=poison
        )
        await _until_applied(pool, 3)
        async with pool.acquire() as conn, conn.transaction():
            for n in (5, 6):  # two events waiting in the outbox, never relayed here
                await outbox.append(conn, GaugeProbed(case_id=case, n=n))
        await asyncio.sleep(0.5)
        counts = [StateCount("tsunagu_test_probes", "Probes by parity", "parity", _probes_by_parity)]
        sampler = Sampler(service, pool, counts=counts, consumer=lambda: consumer.kafka)
        for _ in range(50):  # the dead letter is sent after the good records are applied
            await sampler.sample()
            text = await asyncio.to_thread(_scrape, server.port)
            if "tsunagu_dead_letters_total" in text and f'service="{service}"' in text:
                break
            await asyncio.sleep(0.2)
    finally:
        consumer.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        server.stop()
        await producer.stop()

    lines = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    dlt = dead_letter_topic(GaugeProbed.TOPIC)
    assert lines[f'tsunagu_dead_letters_total{{service="{service}",topic="{dlt}"}}'] == 1
    assert (
        lines[
            f'tsunagu_consumer_record_duration_seconds_count{{service="{service}",topic="{GaugeProbed.TOPIC}"}}'
        ]
        >= 4
    )
    assert lines[f'tsunagu_consumer_lag{{service="{service}",topic="{GaugeProbed.TOPIC}"}}'] == 0
    assert lines[f'tsunagu_outbox_backlog{{service="{service}"}}'] == 2
    assert lines[f'tsunagu_outbox_oldest_age_seconds{{service="{service}"}}'] > 0
    assert lines[f'tsunagu_test_probes{{parity="odd",service="{service}"}}'] == 2
    assert lines[f'tsunagu_test_probes{{parity="even",service="{service}"}}'] == 1
    assert PERSONAL not in text and str(case) not in text


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        body: Any = reply.read()
    return str(body.decode())
