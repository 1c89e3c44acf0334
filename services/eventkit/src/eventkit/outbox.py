"""The transactional outbox: `append` inside the caller's transaction; `OutboxRelay` publishes.

A state change and the event announcing it commit together or not at all. Rows are published
with an idempotent producer and marked only after the broker's ack, so a crash between the two
republishes (consumers deduplicate on the event id) and never loses one. Two paths publish:

- on commit: the process that wrote the row sends it the moment its transaction commits
  (`dbtrace` tells when), in commit order, and marks it afterwards in one statement for many.
  A hop then costs no wake-up, select and update of the relay's;
- the relay: rows written outside a pool with the hook (`relay_after` = now) at once, woken by
  NOTIFY; rows the writer did not confirm within `RELAY_GRACE_S` (it died, or the broker was
  away) after that, by polling. It is the safety net that makes the fast path safe to lose.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from contracts.events import Event
from eventkit import dbtrace, telemetry
from eventkit.build import from_row
from eventkit.db import on_commit
from eventkit.envelope import encode_payload, new_envelope, to_kafka_headers
from eventkit.worker import Worker

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "outbox"
# Any constant: each service has its own database, so relays of different services never meet.
_RELAY_LOCK = 7_305_212
# How long the relay leaves a row to the process that wrote it. The writer sends within
# milliseconds of its commit; waiting this long before stepping in makes a second copy rare.
RELAY_GRACE_S = 10.0
# Beyond this many unsent rows (the broker is away) the fast path stops taking more; the relay
# publishes those later, from the table.
_MAX_QUEUED = 10_000
# How long confirmed rows gather before one statement marks them. Nothing waits for the mark (the
# relay leaves a row alone for RELAY_GRACE_S), and a mark is a round trip and a commit of its
# own: one per send cost a database transaction per event.
_MARK_AFTER_S = 0.25


@dataclass(frozen=True)
class Row:
    """An outbox row as it is published."""

    event_id: uuid.UUID
    topic: str
    key: str
    payload: Any
    headers: dict[str, str]


async def append(conn: asyncpg.Connection, event: Event) -> uuid.UUID:
    """Stage `event` for publication; call inside the transaction that changes the state."""
    written = rows_of(conn, [event])
    await conn.execute(insert_sql(1), *written.args())
    written.stage(conn)
    return written.rows[0].event_id


@dataclass(frozen=True)
class Rows:
    """Events written by the caller's own statement, which saves the round trip of an `append`
    each: `insert_sql(n)` is the INSERT for one of its CTEs, its parameters from $n on are
    `args()`, and `stage(conn)`, once the statement has run, hands the rows to the commit."""

    rows: tuple[Row, ...]
    types: tuple[str, ...]
    relay_after_s: float

    def args(self) -> tuple[Any, ...]:
        return (
            [row.event_id for row in self.rows],
            [row.topic for row in self.rows],
            [row.key for row in self.rows],
            list(self.types),
            [row.payload for row in self.rows],
            [row.headers for row in self.rows],
            self.relay_after_s,
        )

    def stage(self, conn: asyncpg.Connection) -> None:
        """Call after the statement wrote the rows (not if it wrote none: see `insert_sql`'s when).
        Outside a transaction the statement has committed already: the rows are sent at once."""
        staged = dbtrace.staged(conn)
        if staged is not None:
            staged.extend(self.rows)  # sent by this process once the transaction commits
        elif (hand_over := dbtrace.after_statement(conn)) is not None:
            hand_over(list(self.rows))
        # Otherwise a trigger (migration 0003) sends NOTIFY on the outbox channel: delivered only
        # if this transaction commits, it wakes the relay at once instead of at its next poll.


def rows_of(conn: asyncpg.Connection, events: Sequence[Event]) -> Rows:
    """`events` as outbox rows, in order, each with a new envelope and the current trace."""
    trace_headers = telemetry.current_trace_headers()
    rows = []
    for event in events:
        envelope = new_envelope(event)
        rows.append(
            Row(
                envelope.event_id,
                event.TOPIC,
                event.partition_key(),
                encode_payload(event),
                envelope.headers() | trace_headers,
            )
        )
    # A row the writer publishes itself waits RELAY_GRACE_S for the relay; others are the relay's.
    publishes = dbtrace.staged(conn) is not None or dbtrace.after_statement(conn) is not None
    grace = RELAY_GRACE_S if publishes else 0.0
    return Rows(tuple(rows), tuple(event.TYPE for event in events), grace)


def insert_sql(first: int, *, when: str = "true") -> str:
    """The INSERT of a `Rows`, whose seven parameters start at $`first`, in order (the serial seq
    is the publication order); `when`, a condition of the caller's statement, can hold them back."""
    n = first
    return f"""INSERT INTO outbox (event_id, topic, message_key, event_type, payload, headers, relay_after)
           SELECT e.event_id, e.topic, e.message_key, e.event_type, e.payload, e.headers,
                  now() + make_interval(secs => ${n + 6})
             FROM unnest(${n}::uuid[], ${n + 1}::text[], ${n + 2}::text[], ${n + 3}::text[],
                         ${n + 4}::jsonb[], ${n + 5}::jsonb[])
                  WITH ORDINALITY AS e(event_id, topic, message_key, event_type, payload, headers, ord)
            WHERE {when}
            ORDER BY e.ord"""


class CommitPublisher:
    """The fast path: rows handed over as their transaction commits, sent in that order by one
    task, marked published in one statement per round once the broker has acknowledged them."""

    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer) -> None:
        self._pool = pool
        self._producer = producer
        self._queue: asyncio.Queue[Row] = asyncio.Queue()
        self._confirmed: list[uuid.UUID] = []
        self._sender: asyncio.Task[None] | None = None
        self._marker: asyncio.Task[None] | None = None
        self._acks: set[asyncio.Task[None]] = set()

    def committed(self, rows: list[Any]) -> None:
        """`dbtrace`'s after-commit callback: must not block the committing task."""
        if self._queue.qsize() + len(rows) > _MAX_QUEUED:
            return  # left to the relay
        for row in rows:
            self._queue.put_nowait(row)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_loop(), name="outbox-on-commit")

    async def close(self) -> None:
        """Stop; anything not yet confirmed is the relay's after the grace period."""
        for task in (self._sender, *self._acks):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in (self._sender, *self._acks) if t is not None), return_exceptions=True
        )
        if self._marker is not None:
            self._marker.cancel()  # its rows go back to `_confirmed`, marked just below
            await asyncio.gather(self._marker, return_exceptions=True)
        await self._mark()

    async def _send_loop(self) -> None:
        while not self._queue.empty():
            rows = [self._queue.get_nowait() for _ in range(self._queue.qsize())]
            try:
                pending = await send(self._producer, rows)
            except Exception as error:  # the broker is away: the relay publishes them later
                log.warning("outbox: %d rows left to the relay (%s)", len(rows), type(error).__name__)
                continue
            task = asyncio.get_running_loop().create_task(self._confirm(pending, rows))
            self._acks.add(task)
            task.add_done_callback(self._acks.discard)

    async def _confirm(self, pending: "_Pending", rows: list[Row]) -> None:
        try:
            await acknowledged(pending)
        except Exception as error:
            log.warning("outbox: %d rows left to the relay (%s)", len(rows), type(error).__name__)
            return
        self._confirmed.extend(row.event_id for row in rows)
        if self._marker is None or self._marker.done():
            self._marker = asyncio.get_running_loop().create_task(self._mark(after=_MARK_AFTER_S))

    async def _mark(self, *, after: float = 0.0) -> None:
        # Rows confirmed while a round waits or its statement runs are taken by that round or the
        # next: under load one UPDATE marks many.
        await asyncio.sleep(after)
        while self._confirmed:
            ids, self._confirmed = self._confirmed, []
            try:
                with telemetry.quiet():
                    await self._pool.execute(
                        """UPDATE outbox SET published_at = now()
                            WHERE event_id = ANY($1::uuid[]) AND published_at IS NULL""",
                        ids,
                    )
            except asyncio.CancelledError:
                self._confirmed.extend(ids)  # stopping: close() marks them
                raise
            except Exception as error:  # unmarked: the relay sends them again, deduplicated downstream
                log.warning("outbox: could not mark %d sent rows (%s)", len(ids), type(error).__name__)


_Pending = list[tuple[Any, "asyncio.Future[Any]"]]


async def send(producer: AIOKafkaProducer, rows: list[Row]) -> _Pending:
    """Hand `rows` to the producer in order, each in a `send` span of the trace it was written in;
    returns what `acknowledged` waits for."""
    pending: _Pending = []
    for row in rows:
        span, trace_headers = telemetry.start_send_span(
            row.topic, stored_context=row.headers, message_id=str(row.event_id), key=row.key
        )
        headers = {k: v for k, v in row.headers.items() if k not in ("traceparent", "tracestate")}
        headers |= trace_headers
        try:
            future = await producer.send(
                row.topic,
                value=orjson.dumps(row.payload),
                key=row.key.encode("utf-8"),
                headers=to_kafka_headers(headers),
            )
        except Exception as error:
            telemetry.record_error(span, error)
            span.end()
            for earlier, _ in pending:
                earlier.end()
            raise
        pending.append((span, future))
    return pending


async def acknowledged(pending: _Pending) -> None:
    """Wait for the broker's acks; raises the first failure once every span has ended."""
    failure: BaseException | None = None
    for span, future in pending:
        try:
            metadata = await future
            span.set_attribute("messaging.destination.partition.id", str(metadata.partition))
            span.set_attribute("messaging.kafka.offset", metadata.offset)
        except Exception as error:
            telemetry.record_error(span, error)
            failure = failure or error
        finally:
            span.end()
    if failure is not None:
        raise failure


class OutboxRelay(Worker):
    """Publishes outbox rows; one active relay per database (advisory lock), others stand by.
    Every replica publishes its own commits at once (`CommitPublisher`) unless told not to."""

    name = "outbox relay"

    def __init__(
        self,
        *,
        dsn: str,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        poll_interval_s: float = 0.5,
        batch_size: int = 200,
        keep_published_days: int = 7,
        publish_on_commit: bool = True,
    ) -> None:
        super().__init__()
        self._dsn = dsn
        self._pool = pool
        self._producer = producer
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._keep_published_days = keep_published_days
        self.is_leader = False
        self.on_commit: CommitPublisher | None = None
        if publish_on_commit:
            publisher = CommitPublisher(pool, producer)
            if on_commit(pool, publisher.committed):
                self.on_commit = publisher

    async def closed(self) -> None:
        if self.on_commit is not None:
            on_commit(self._pool, None)
            await self.on_commit.close()

    async def work(self) -> None:
        listener = await asyncpg.connect(self._dsn)
        try:
            await self._become_leader(listener)
            await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
            log.info("outbox relay is publishing")
            last_cleanup = 0.0
            loop = asyncio.get_running_loop()
            while not self.stopping:
                try:
                    published = await self.publish_pending()
                except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
                    raise
                except Exception as error:  # broker trouble: rows stay unpublished, retry soon
                    log.warning("outbox relay could not publish (%s); retrying", type(error).__name__)
                    published = 0
                    await self.sleep(1.0)
                if loop.time() - last_cleanup > 600:
                    await self._forget_old_rows()
                    last_cleanup = loop.time()
                if published < self._batch_size:
                    # A NOTIFY wakes it; the timer is the safety net for those lost while
                    # reconnecting, and the clock for rows whose writer did not confirm them.
                    await self.sleep(self._poll_interval_s)
        finally:
            self.is_leader = False
            with contextlib.suppress(Exception):
                await listener.close()

    async def _become_leader(self, listener: asyncpg.Connection) -> None:
        # A session lock dies with its connection, so a crashed leader frees it by itself.
        while not self.stopping:
            with telemetry.quiet():
                got = await listener.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK)
            if got:
                self.is_leader = True
                return
            await self.sleep(self._poll_interval_s * 4)

    def _on_notify(self, *_: Any) -> None:
        self.wake()

    async def publish_pending(self) -> int:
        """Publish one batch of the rows due to the relay; returns how many were published."""
        with telemetry.quiet():
            async with self._pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(
                    """SELECT seq, event_id, topic, message_key, payload, headers
                         FROM outbox WHERE published_at IS NULL AND relay_after <= now()
                        ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED""",
                    self._batch_size,
                )
                if not rows:
                    return 0
                await acknowledged(
                    await send(
                        self._producer,
                        [from_row(Row, r, key=r["message_key"]) for r in rows],
                    )
                )
                await conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])",
                    [row["seq"] for row in rows],
                )
        return len(rows)

    async def _forget_old_rows(self) -> None:
        # Published rows are kept a while so that a lost broker log can be replayed from here.
        with telemetry.quiet():
            await self._pool.execute(
                "DELETE FROM outbox WHERE published_at < now() - make_interval(days => $1)",
                self._keep_published_days,
            )
