"""Outbox, idempotent consumer and dead letters against a real broker and a real database."""

import asyncio
import contextlib
import functools
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from contracts.events import Event
from contracts.topics import OPS_ALERTS, TopicSpec, dead_letter_topic
from eventkit import outbox
from eventkit.consumer import EventConsumer, Message, PermanentFailure
from eventkit.db import EVENTKIT_MIGRATIONS, MigrationSource, create_pool, migrate, service_migrations
from eventkit.dlt import read_dead_letters, replay
from eventkit.envelope import new_envelope, to_kafka_headers
from eventkit.kafka import ensure_topics, make_producer
from eventkit.outbox import OutboxRelay
from eventkit.testing import Infra

RUN = uuid.uuid4().hex[:8]


class ProbeRecorded(Event):
    """A test-only fact on a topic of this test run's own."""

    TYPE: ClassVar[str] = f"test.probe_recorded.{RUN}.v1"
    TOPIC: ClassVar[str] = f"test.probes.{RUN}.v1"
    SOURCE: ClassVar[str] = "/tests"

    n: int


PROBE_TOPIC = TopicSpec(ProbeRecorded.TOPIC, 3, "test probes")
PROBE_DLT = TopicSpec(dead_letter_topic(ProbeRecorded.TOPIC), 1, "test dead letters")

# Each effect keeps the partition its record came from and the transaction that applied it.
EFFECTS_SQL = """CREATE TABLE IF NOT EXISTS effects (
    id bigserial PRIMARY KEY, case_id uuid NOT NULL, n int NOT NULL, part int,
    tx xid8 NOT NULL DEFAULT pg_current_xact_id())"""


@pytest.fixture
async def pool(infra: Infra, fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    await ensure_topics(infra.kafka_bootstrap_servers, [PROBE_TOPIC, PROBE_DLT])
    await migrate(fresh_database, [MigrationSource("eventkit", EVENTKIT_MIGRATIONS)])
    created = await create_pool(fresh_database, min_size=1, max_size=5)
    await created.execute(EFFECTS_SQL)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
async def producer(infra: Infra) -> AsyncIterator[Any]:
    started = make_producer(infra.kafka_bootstrap_servers, client_id="test")
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def _read(infra: Infra, topic: str, count: int, timeout: float = 20.0) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < count and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


@contextlib.asynccontextmanager
async def running(worker: Any) -> AsyncIterator[None]:
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        worker.stop()
        await asyncio.wait_for(task, 20)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def test_a_fresh_database_migrates_cleanly_and_a_second_run_applies_nothing(
    fresh_database: str,
) -> None:
    from pathlib import Path

    intake = Path(__file__).resolve().parents[3] / "intake" / "migrations"
    first = await migrate(fresh_database, service_migrations("intake", intake))
    assert first[0] == "eventkit/0001_outbox_inbox.sql" and len(first) >= 2
    assert await migrate(fresh_database, service_migrations("intake", intake)) == []


async def test_a_rolled_back_state_change_leaves_no_event_behind(pool: asyncpg.Pool) -> None:
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO effects (case_id, n) VALUES ($1, 1)", uuid.uuid4())
            await outbox.append(conn, ProbeRecorded(case_id=uuid.uuid4(), n=1))
            raise RuntimeError("the use case failed after staging its event")
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    assert await pool.fetchval("SELECT count(*) FROM effects") == 0


async def test_the_relay_publishes_a_cases_events_in_order_and_marks_them_after_the_ack(
    infra: Infra, pool: asyncpg.Pool, producer: Any, fresh_database: str
) -> None:
    case = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        for n in range(20):
            await outbox.append(conn, ProbeRecorded(case_id=case, n=n))
    relay = OutboxRelay(dsn=fresh_database, pool=pool, producer=producer, poll_interval_s=0.2)
    async with running(relay):
        await _until(lambda: _all_published(pool))
    records = [r for r in await _read(infra, ProbeRecorded.TOPIC, 200) if r.key == str(case).encode()]
    assert [json.loads(r.value)["n"] for r in records] == list(range(20))
    headers = dict(records[0].headers)
    assert headers["ce_type"] == ProbeRecorded.TYPE.encode()
    assert headers["ce_specversion"] == b"1.0" and headers["content-type"] == b"application/json"
    assert {"ce_id", "ce_source", "ce_time"} <= set(headers)


async def _all_published(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"))


async def _apply_probe(conn: asyncpg.Connection, event: ProbeRecorded, message: Message) -> None:
    if event.n < 0:
        raise PermanentFailure("negative_probe")
    if event.n == 666:
        raise ValueError("a bug that never goes away")
    await conn.execute(
        "INSERT INTO effects (case_id, n, part) VALUES ($1, $2, $3)",
        event.case_id,
        event.n,
        message.partition,
    )


def _consumer(
    infra: Infra, pool: asyncpg.Pool, producer: Any, probe: type[ProbeRecorded] = ProbeRecorded
) -> EventConsumer:
    return EventConsumer(
        group=f"test-{uuid.uuid4().hex[:8]}",
        handlers={probe: _apply_probe},
        pool=pool,
        producer=producer,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        max_attempts=3,
        retry_base_s=0.01,
    )


async def _publish_raw(producer: Any, key: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
    await producer.send_and_wait(ProbeRecorded.TOPIC, value=value, key=key.encode(), headers=headers)


async def test_a_redelivered_event_has_no_second_effect(
    infra: Infra, pool: asyncpg.Pool, producer: Any
) -> None:
    event = ProbeRecorded(case_id=uuid.uuid4(), n=7)
    headers = to_kafka_headers(new_envelope(event).headers())
    for _ in range(3):  # the same event id three times, as after a crash before the offset commit
        await _publish_raw(producer, str(event.case_id), event.model_dump_json().encode(), headers)
    consumer = _consumer(infra, pool, producer)
    async with running(consumer):
        await _until(lambda: _effects(pool, event.case_id, 1))
        await asyncio.sleep(1.0)
    assert await pool.fetchval("SELECT count(*) FROM effects WHERE case_id = $1", event.case_id) == 1


async def _effects(pool: asyncpg.Pool, case: uuid.UUID, expected: int) -> bool:
    found = await pool.fetchval("SELECT count(*) FROM effects WHERE case_id = $1", case)
    return bool(found >= expected)


async def test_poison_messages_go_to_the_dead_letter_topic_and_later_ones_are_processed(
    infra: Infra, pool: asyncpg.Pool, producer: Any
) -> None:
    case = uuid.uuid4()
    key = str(case)
    good = ProbeRecorded(case_id=case, n=1)
    bug = ProbeRecorded(case_id=case, n=666)
    refused = ProbeRecorded(case_id=case, n=-1)
    later = ProbeRecorded(case_id=case, n=2)
    await _publish_raw(producer, key, b"{not json", to_kafka_headers(new_envelope(good).headers()))
    for event in (bug, refused, good, later):
        await _publish_raw(
            producer, key, event.model_dump_json().encode(), to_kafka_headers(new_envelope(event).headers())
        )
    consumer = _consumer(infra, pool, producer)
    async with running(consumer):
        await _until(lambda: _effects(pool, case, 2))
    letters = [
        d for d in await read_dead_letters(infra.kafka_bootstrap_servers, ProbeRecorded.TOPIC) if d.key == key
    ]
    reasons = sorted(d.headers["dlt.error"] for d in letters)
    assert reasons == ["handler_error:ValueError", "negative_probe", "value_is_not_json"]
    bug_letter = next(d for d in letters if d.headers["dlt.error"].startswith("handler_error"))
    assert bug_letter.headers["dlt.attempts"] == "3"
    assert bug_letter.headers["dlt.original.topic"] == ProbeRecorded.TOPIC
    assert {"dlt.original.partition", "dlt.original.offset", "ce_id"} <= set(bug_letter.headers)
    # Each dead letter raised an operator alert (notify pages on it), with codes only.
    alerts = await _alerts_about(infra, key)
    assert len({a["alert_id"] for a in alerts}) == 3
    assert {a["kind"] for a in alerts} == {"dead_lettered"}
    assert {tuple(a["detail"]) for a in alerts} == {(f"topic:{dead_letter_topic(ProbeRecorded.TOPIC)}",)}


async def _alerts_about(infra: Infra, key: str) -> list[dict[str, Any]]:
    """The operator alerts keyed by `key`, read from the start of ops.alerts.v1 to its end."""
    consumer = AIOKafkaConsumer(
        OPS_ALERTS.name, bootstrap_servers=infra.kafka_bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        ends: dict[Any, int] = {}
        for _ in range(60):
            batches = await consumer.getmany(timeout_ms=500)
            found += [json.loads(r.value) for rs in batches.values() for r in rs if r.key == key.encode()]
            if not ends and consumer.assignment():
                ends = await consumer.end_offsets(list(consumer.assignment()))
            if ends and all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                break
    finally:
        await consumer.stop()
    return found


async def test_a_replayed_dead_letter_is_processed_once(
    infra: Infra, pool: asyncpg.Pool, producer: Any
) -> None:
    case = uuid.uuid4()
    event = ProbeRecorded(case_id=case, n=5)
    headers = to_kafka_headers(new_envelope(event).headers())
    dlt = dead_letter_topic(ProbeRecorded.TOPIC)
    await producer.send_and_wait(
        dlt,
        value=event.model_dump_json().encode(),
        key=str(case).encode(),
        headers=[*headers, ("dlt.original.topic", ProbeRecorded.TOPIC.encode())],
    )
    letter = next(
        d
        for d in await read_dead_letters(infra.kafka_bootstrap_servers, ProbeRecorded.TOPIC)
        if d.key == str(case)
    )
    await replay(infra.kafka_bootstrap_servers, ProbeRecorded.TOPIC, letter.offset)
    await replay(infra.kafka_bootstrap_servers, ProbeRecorded.TOPIC, letter.offset)
    consumer = _consumer(infra, pool, producer)
    async with running(consumer):
        await _until(lambda: _effects(pool, case, 1))
        await asyncio.sleep(1.0)
    assert await pool.fetchval("SELECT count(*) FROM effects WHERE case_id = $1", case) == 1


async def test_a_backlog_is_applied_in_order_and_a_failing_record_spoils_only_itself(
    infra: Infra, pool: asyncpg.Pool, producer: Any
) -> None:
    # Published before the consumer starts, the backlog arrives in one poll and is applied in
    # batches; the failing record rolls its batch back, which is then applied record by record.
    case = uuid.uuid4()
    key = str(case)
    ns = [*range(1, 31), 666, *range(31, 61)]
    duplicate = ProbeRecorded(case_id=case, n=61)
    duplicate_headers = to_kafka_headers(new_envelope(duplicate).headers())
    for n in ns:
        event = ProbeRecorded(case_id=case, n=n)
        await _publish_raw(
            producer, key, event.model_dump_json().encode(), to_kafka_headers(new_envelope(event).headers())
        )
    for _ in range(2):  # one event id twice in the same batch: applied once
        await _publish_raw(producer, key, duplicate.model_dump_json().encode(), duplicate_headers)

    consumer = _consumer(infra, pool, producer)
    async with running(consumer):
        await _until(lambda: _effects(pool, case, 61))
        await asyncio.sleep(0.5)

    applied = await pool.fetch("SELECT n FROM effects WHERE case_id = $1 ORDER BY id", case)
    assert [row["n"] for row in applied] == [*range(1, 62)]
    letters = [
        d for d in await read_dead_letters(infra.kafka_bootstrap_servers, ProbeRecorded.TOPIC) if d.key == key
    ]
    assert [d.headers["dlt.error"] for d in letters] == ["handler_error:ValueError"]


@pytest.mark.parametrize("poison", [False, True], ids=["all_good", "one_always_fails"])
async def test_a_backlog_over_several_partitions_is_applied_together_each_case_in_order(
    infra: Infra, pool: asyncpg.Pool, producer: Any, poison: bool
) -> None:
    # Twelve cases spread over three partitions, five events each, published before the consumer
    # starts: one poll returns them all, and the records of all partitions share transactions. A
    # record that always fails makes its batch go again record by record, each partition in order.
    own = uuid.uuid4().hex[:8]

    class BacklogProbed(ProbeRecorded):
        """The probe on a topic of this test's own: the consumer reads only what it published."""

        TYPE: ClassVar[str] = f"test.backlog_probed.{own}.v1"
        TOPIC: ClassVar[str] = f"test.backlog.{own}.v1"

    topic = TopicSpec(BacklogProbed.TOPIC, 3, "test backlog")
    await ensure_topics(
        infra.kafka_bootstrap_servers, [topic, TopicSpec(dead_letter_topic(topic.name), 1, "")]
    )
    cases = [uuid.uuid4() for _ in range(12)]
    for n in range(1, 6):
        for case in cases:
            for value in (n, 666) if poison and (case, n) == (cases[0], 3) else (n,):
                event = BacklogProbed(case_id=case, n=value)
                await producer.send_and_wait(
                    topic.name,
                    value=event.model_dump_json().encode(),
                    key=str(case).encode(),
                    headers=to_kafka_headers(new_envelope(event).headers()),
                )

    consumer = _consumer(infra, pool, producer, BacklogProbed)
    async with running(consumer):
        for case in cases:
            await _until(functools.partial(_effects, pool, case, 5))

    for case in cases:
        applied = await pool.fetch("SELECT n FROM effects WHERE case_id = $1 ORDER BY id", case)
        assert [row["n"] for row in applied] == [1, 2, 3, 4, 5]
    if not poison:
        shared = await pool.fetchval(
            """SELECT count(*) FROM (SELECT tx FROM effects WHERE case_id = ANY($1::uuid[])
                                      GROUP BY tx HAVING count(DISTINCT part) > 1) AS across""",
            cases,
        )
        assert shared > 0, "no transaction applied records of more than one partition"


async def test_pathological_records_are_dead_lettered_and_the_partition_keeps_flowing(
    infra: Infra, pool: asyncpg.Pool, producer: Any
) -> None:
    case = uuid.uuid4()
    key = str(case)
    good = ProbeRecorded(case_id=case, n=3)
    headers = to_kafka_headers(new_envelope(good).headers())
    deep = b"[" * 100_000 + b"]" * 100_000
    huge_number = b'{"case_id": "' + key.encode() + b'", "n": ' + b"9" * 5000 + b"}"
    near_the_limit = b'{"case_id": "' + key.encode() + b'", "pad": "' + b"x" * 1_000_000 + b'"}'
    for value in (deep, huge_number, near_the_limit):
        await _publish_raw(producer, key, value, to_kafka_headers(new_envelope(good).headers()))
    await _publish_raw(producer, key, good.model_dump_json().encode(), headers)

    consumer = _consumer(infra, pool, producer)
    async with running(consumer):
        await _until(lambda: _effects(pool, case, 1))
    letters = [
        d for d in await read_dead_letters(infra.kafka_bootstrap_servers, ProbeRecorded.TOPIC) if d.key == key
    ]
    assert len(letters) == 3
    big = next(d for d in letters if d.headers.get("dlt.truncated") == "true")
    assert big.headers["dlt.original.size"] == str(len(near_the_limit))
    assert big.headers["dlt.original.sha256"] == hashlib.sha256(near_the_limit).hexdigest()
    assert big.value is not None and near_the_limit.startswith(big.value)
