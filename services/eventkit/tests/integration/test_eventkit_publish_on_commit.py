"""The outbox's fast path, on a real broker and database: the writer publishes its rows the moment
their transaction commits, never what rolled back, and the relay remains the safety net."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from contracts.events import Event
from contracts.topics import TopicSpec
from eventkit import outbox
from eventkit.db import EVENTKIT_MIGRATIONS, MigrationSource, create_pool, migrate, on_commit
from eventkit.kafka import ensure_topics, make_producer
from eventkit.outbox import OutboxRelay
from eventkit.testing import Infra

RUN = uuid.uuid4().hex[:8]


class FastProbeRecorded(Event):
    TYPE: ClassVar[str] = f"test.fast_probe_recorded.{RUN}.v1"
    TOPIC: ClassVar[str] = f"test.fast-probes.{RUN}.v1"
    SOURCE: ClassVar[str] = "/tests"

    n: int


@pytest.fixture
async def parts(infra: Infra, fresh_database: str) -> AsyncIterator[tuple[asyncpg.Pool, Any]]:
    await ensure_topics(infra.kafka_bootstrap_servers, [TopicSpec(FastProbeRecorded.TOPIC, 1, "test")])
    await migrate(fresh_database, [MigrationSource("eventkit", EVENTKIT_MIGRATIONS)])
    pool = await create_pool(fresh_database, min_size=1, max_size=3)
    producer = make_producer(infra.kafka_bootstrap_servers, client_id="test-fast-path")
    await producer.start()
    try:
        yield pool, producer
    finally:
        await producer.stop()
        await pool.close()


async def _numbers_on_topic(infra: Infra, case: uuid.UUID, want: int, timeout: float = 15.0) -> list[int]:
    consumer = AIOKafkaConsumer(
        FastProbeRecorded.TOPIC,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[int] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=300)).values():
                found += [json.loads(r.value)["n"] for r in batch if r.key == str(case).encode()]
    finally:
        await consumer.stop()
    return found


async def _unpublished(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def _eventually_all_marked(pool: asyncpg.Pool) -> None:
    for _ in range(100):
        if await _unpublished(pool) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("rows sent on commit were never marked published")


async def test_committed_rows_are_published_by_the_writer_without_the_relay_running_and_marked(
    infra: Infra, parts: tuple[asyncpg.Pool, Any], fresh_database: str
) -> None:
    pool, producer = parts
    relay = OutboxRelay(dsn=fresh_database, pool=pool, producer=producer)  # built, never run
    case = uuid.uuid4()
    for n in range(5):  # five transactions, one after another: their order is kept
        async with pool.acquire() as conn, conn.transaction():
            await outbox.append(conn, FastProbeRecorded(case_id=case, n=n))
    assert await _numbers_on_topic(infra, case, 5) == [0, 1, 2, 3, 4]
    await _eventually_all_marked(pool)
    assert relay.on_commit is not None
    await relay.closed()


async def test_a_rolled_back_transaction_or_savepoint_publishes_nothing_of_its_own(
    infra: Infra, parts: tuple[asyncpg.Pool, Any], fresh_database: str
) -> None:
    pool, producer = parts
    relay = OutboxRelay(dsn=fresh_database, pool=pool, producer=producer)
    case = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await outbox.append(conn, FastProbeRecorded(case_id=case, n=1))
            raise RuntimeError("the use case failed after staging its event")
    async with pool.acquire() as conn, conn.transaction():
        await outbox.append(conn, FastProbeRecorded(case_id=case, n=2))
        with pytest.raises(RuntimeError):
            async with conn.transaction():  # a savepoint, rolled back on its own
                await outbox.append(conn, FastProbeRecorded(case_id=case, n=3))
                raise RuntimeError("a step that is allowed to fail")
        await outbox.append(conn, FastProbeRecorded(case_id=case, n=4))
        savepoint = conn.transaction()  # asyncpg's explicit style, rolled back by hand
        await savepoint.start()
        await outbox.append(conn, FastProbeRecorded(case_id=case, n=5))
        await savepoint.rollback()
    assert await _numbers_on_topic(infra, case, 3, timeout=5.0) == [2, 4]
    await _eventually_all_marked(pool)
    await relay.closed()


async def test_rows_the_writer_never_sent_are_published_by_the_relay_after_the_grace_period(
    infra: Infra,
    parts: tuple[asyncpg.Pool, Any],
    fresh_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool, producer = parts
    monkeypatch.setattr(outbox, "RELAY_GRACE_S", 1.0)
    relay = OutboxRelay(dsn=fresh_database, pool=pool, producer=producer, poll_interval_s=0.2)
    # The writer dies between its commit and its send: what it staged goes nowhere.
    assert on_commit(pool, lambda rows: None)
    case = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await outbox.append(conn, FastProbeRecorded(case_id=case, n=7))
    assert await relay.publish_pending() == 0  # still the writer's, within the grace period
    await asyncio.sleep(1.2)
    assert await relay.publish_pending() == 1
    assert await _numbers_on_topic(infra, case, 1) == [7]
    assert await _unpublished(pool) == 0


async def test_a_row_written_without_the_hook_wakes_the_relay_at_once(
    infra: Infra, parts: tuple[asyncpg.Pool, Any], fresh_database: str
) -> None:
    pool, producer = parts
    relay = OutboxRelay(dsn=fresh_database, pool=pool, producer=producer, publish_on_commit=False)
    assert relay.on_commit is None
    case = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await outbox.append(conn, FastProbeRecorded(case_id=case, n=9))
    assert await relay.publish_pending() == 1  # due at once: relay_after is its commit time
    assert await _numbers_on_topic(infra, case, 1) == [9]


@pytest.fixture
def handed(parts: tuple[asyncpg.Pool, Any]) -> list[list[Any]]:
    """The rows each commit on the pool hands to its callback, one list a commit, in commit order."""
    pool, _ = parts
    handed: list[list[Any]] = []
    assert on_commit(pool, handed.append)
    return handed


def _committed(handed: list[list[Any]]) -> list[list[int]]:
    """What each commit handed to the pool's callback, as the events' numbers, in commit order."""
    return [[row.payload["n"] for row in rows] for rows in handed]


async def test_each_connection_stages_for_its_own_commit_not_the_task_s_other_transaction(
    parts: tuple[asyncpg.Pool, Any], handed: list[list[Any]]
) -> None:
    pool, _ = parts
    case = uuid.uuid4()
    async with pool.acquire() as first, first.transaction():
        await outbox.append(first, FastProbeRecorded(case_id=case, n=1))
        async with pool.acquire() as second:
            with pytest.raises(RuntimeError):
                async with second.transaction():
                    await outbox.append(second, FastProbeRecorded(case_id=case, n=2))
                    raise RuntimeError("the other connection's work rolls back")
            async with second.transaction():
                await outbox.append(second, FastProbeRecorded(case_id=case, n=3))
    # The second connection's commit hands over its own row; the first's, only what it wrote.
    assert _committed(handed) == [[3], [1]]


async def test_a_transaction_that_could_not_begin_leaves_nothing_behind_for_the_next(
    parts: tuple[asyncpg.Pool, Any], handed: list[list[Any]]
) -> None:
    pool, _ = parts
    case = uuid.uuid4()
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")  # begun by hand: asyncpg refuses a transaction() on top of it
        with pytest.raises(asyncpg.InterfaceError):
            async with conn.transaction():
                pass
        await conn.execute("ROLLBACK")
        async with conn.transaction():
            await outbox.append(conn, FastProbeRecorded(case_id=case, n=8))
    assert _committed(handed) == [[8]]


async def test_rows_written_by_the_caller_s_statement_keep_their_order_and_a_when_holds_them_back(
    infra: Infra, parts: tuple[asyncpg.Pool, Any], handed: list[list[Any]]
) -> None:
    pool, _ = parts
    case = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        rows = outbox.rows_of(conn, [FastProbeRecorded(case_id=case, n=n) for n in (5, 6, 7)])
        written = await conn.fetchval(
            f"WITH w AS ({outbox.insert_sql(2, when='$1::boolean')} RETURNING 1) SELECT count(*) FROM w",
            True,
            *rows.args(),
        )
        rows.stage(conn)
        held = outbox.rows_of(conn, [FastProbeRecorded(case_id=case, n=99)])
        none = await conn.fetchval(
            f"WITH w AS ({outbox.insert_sql(2, when='$1::boolean')} RETURNING 1) SELECT count(*) FROM w",
            False,
            *held.args(),
        )
    assert (written, none) == (3, 0)
    assert _committed(handed) == [[5, 6, 7]]
    stored = await pool.fetch(
        "SELECT event_type, payload, relay_after > created_at AS later FROM outbox ORDER BY seq"
    )
    assert [(r["event_type"], r["payload"]["n"], r["later"]) for r in stored] == [
        (FastProbeRecorded.TYPE, n, True) for n in (5, 6, 7)
    ]


async def test_rows_written_by_a_statement_alone_are_handed_over_as_it_returns(
    parts: tuple[asyncpg.Pool, Any], handed: list[list[Any]]
) -> None:
    pool, _ = parts
    case = uuid.uuid4()
    async with pool.acquire() as conn:
        rows = outbox.rows_of(conn, [FastProbeRecorded(case_id=case, n=n) for n in (1, 2)])
        await conn.execute(f"WITH w AS ({outbox.insert_sql(1)}) SELECT", *rows.args())
        rows.stage(conn)  # no transaction: the statement committed as it returned
    assert _committed(handed) == [[1, 2]]
    # Left to the writer for the grace period, as a transaction's rows are.
    assert await pool.fetchval("SELECT bool_and(relay_after > created_at) FROM outbox") is True
