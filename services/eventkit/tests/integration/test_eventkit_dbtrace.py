"""Database spans on real PostgreSQL: one per transaction with its statement count and slowest
statement, one per statement outside a transaction, none when quiet, never a parameter."""

from collections.abc import AsyncIterator

import asyncpg
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eventkit import dbtrace, telemetry
from eventkit.db import create_pool

SECRET = "山田花子 090-1234-5678"


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # nothing installed yet in this test process
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(fresh_database, min_size=1, max_size=1)
    try:
        yield created
    finally:
        await created.close()


def _db(exporter: InMemorySpanExporter) -> list[trace.Span]:
    return [s for s in exporter.get_finished_spans() if s.instrumentation_scope.name == "tsunagu.db"]  # type: ignore[attr-defined,misc]


async def test_a_transaction_is_one_span_with_its_statements_counted(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("CREATE TEMPORARY TABLE t (v text)")
        await conn.execute("INSERT INTO t VALUES ($1)", SECRET)
        await conn.fetchval("SELECT count(*) FROM t WHERE v = $1", SECRET)
        async with conn.transaction():  # a savepoint: still the one span
            await conn.fetch("SELECT v FROM t")

    (span,) = _db(spans)
    attributes = dict(span.attributes or {})  # type: ignore[attr-defined]
    assert span.name == "db transaction"  # type: ignore[attr-defined]
    assert attributes["db.statement_count"] == 4
    assert attributes["db.slowest_statement"]
    assert SECRET not in repr(attributes)


async def test_a_statement_outside_a_transaction_is_a_span_and_quiet_work_is_none(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    async with pool.acquire() as conn:
        await conn.fetchval("SELECT $1::text", SECRET)
        with telemetry.quiet():
            await conn.fetchval("SELECT 1")
            async with conn.transaction():
                await conn.execute("SELECT 2")

    (span,) = _db(spans)
    assert span.name == "db statement"  # type: ignore[attr-defined]
    assert dict(span.attributes or {})["db.query.text"] == "SELECT $1::text"  # type: ignore[attr-defined]


async def test_a_failed_transaction_records_the_error_type_only(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    with pytest.raises(asyncpg.PostgresError):
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1 / $1::int", 0)

    (span,) = _db(spans)
    assert dict(span.attributes or {})["error.type"] == "DivisionByZeroError"  # type: ignore[attr-defined]
    assert span.status.description == "DivisionByZeroError"  # type: ignore[attr-defined]


async def test_a_connection_released_mid_transaction_comes_back_rolled_back_and_release_sends_nothing(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    """The pool's reset is asyncpg's rollback alone (eventkit.db._reset_connection): no statement
    is sent when a unit of work ends cleanly, and an abandoned transaction never leaks."""
    async with pool.acquire() as conn:  # max_size=1: the same connection each time
        await conn.execute("CREATE TABLE kept (v int)")
        calls = conn._con._protocol.queries_count  # type: ignore[attr-defined]
    async with pool.acquire() as conn:
        assert conn._con._protocol.queries_count == calls  # type: ignore[attr-defined]
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("INSERT INTO kept VALUES (1)")
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM kept") == 0


async def test_a_transaction_inside_figures_on_puts_its_figures_on_that_span_and_makes_none(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    with telemetry.tracer().start_as_current_span("process probe") as host:
        with dbtrace.figures_on(host):
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT 1")
                await conn.fetchval("SELECT $1::text", SECRET)
        with dbtrace.figures_on(None):  # a batch's: counted nowhere, no span, no statement spans
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT 2")

    assert _db(spans) == []
    [process] = [s for s in spans.get_finished_spans() if s.name == "process probe"]  # type: ignore[attr-defined]
    attributes = dict(process.attributes or {})  # type: ignore[attr-defined]
    assert attributes["db.statement_count"] == 2
    assert attributes["db.slowest_statement"] in ("SELECT 1", "SELECT $1::text")
    assert SECRET not in repr(attributes)
