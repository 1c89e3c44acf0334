"""The transactional outbox: `append` inside the caller's transaction; `OutboxRelay` publishes.

A state change and the event announcing it commit together or not at all. The relay publishes
rows in `seq` order with an idempotent producer and marks them only after the broker's ack, so a
crash between the two republishes (consumers deduplicate on the event id) and never loses one.
"""

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from contracts.events import Event
from eventkit import telemetry
from eventkit.envelope import encode_payload, new_envelope, to_kafka_headers
from eventkit.worker import Worker

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "outbox"
# Any constant: each service has its own database, so relays of different services never meet.
_RELAY_LOCK = 7_305_212


async def append(conn: asyncpg.Connection, event: Event) -> uuid.UUID:
    """Stage `event` for publication; call inside the transaction that changes the state."""
    envelope = new_envelope(event)
    headers = envelope.headers() | telemetry.current_trace_headers()
    await conn.execute(
        """INSERT INTO outbox (event_id, topic, message_key, event_type, payload, headers)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        envelope.event_id,
        event.TOPIC,
        event.partition_key(),
        event.TYPE,
        encode_payload(event),
        headers,
    )
    # A trigger (migration 0002) sends NOTIFY on the outbox channel: delivered only if this
    # transaction commits, it wakes the relay at once instead of at its next poll.
    return envelope.event_id


class OutboxRelay(Worker):
    """Publishes outbox rows; one active relay per database (advisory lock), others stand by."""

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
    ) -> None:
        super().__init__()
        self._dsn = dsn
        self._pool = pool
        self._producer = producer
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._keep_published_days = keep_published_days
        self.is_leader = False

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
                    # A NOTIFY wakes it; the timer is the safety net for those lost while reconnecting.
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
        """Publish one batch; returns how many rows were published."""
        with telemetry.quiet():
            async with self._pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(
                    """SELECT seq, event_id, topic, message_key, payload, headers
                         FROM outbox WHERE published_at IS NULL
                        ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED""",
                    self._batch_size,
                )
                if not rows:
                    return 0
                await self._send(rows)
                await conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])",
                    [row["seq"] for row in rows],
                )
        return len(rows)

    async def _send(self, rows: list[asyncpg.Record]) -> None:
        pending = []
        for row in rows:
            stored: dict[str, str] = row["headers"]
            span, trace_headers = telemetry.start_send_span(
                row["topic"],
                stored_context=stored,
                message_id=str(row["event_id"]),
                key=row["message_key"],
            )
            headers = {k: v for k, v in stored.items() if k not in ("traceparent", "tracestate")}
            headers |= trace_headers
            try:
                future = await self._producer.send(
                    row["topic"],
                    value=orjson.dumps(row["payload"]),
                    key=row["message_key"].encode("utf-8"),
                    headers=to_kafka_headers(headers),
                )
            except Exception as error:
                telemetry.record_error(span, error)
                span.end()
                raise
            pending.append((span, future))
        failure: BaseException | None = None
        for span, future in pending:
            try:
                metadata = await future
                span.set_attribute("messaging.destination.partition.id", str(metadata.partition))
                span.set_attribute("messaging.kafka.offset", metadata.offset)
            except Exception as error:  # the whole batch stays unpublished and is retried
                telemetry.record_error(span, error)
                failure = failure or error
            finally:
                span.end()
        if failure is not None:
            raise failure

    async def _forget_old_rows(self) -> None:
        # Published rows are kept a while so that a lost broker log can be replayed from here.
        with telemetry.quiet():
            await self._pool.execute(
                "DELETE FROM outbox WHERE published_at < now() - make_interval(days => $1)",
                self._keep_published_days,
            )
