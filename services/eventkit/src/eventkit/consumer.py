"""The idempotent consumer: inbox dedupe, one transaction per message, offsets after the commit.

For each record: decode it (a malformed one goes straight to `<topic>.dlt`), then in ONE
transaction insert the inbox row, run the handler (its state changes and outbox rows), commit.
Only then is the offset committed, so a crash redelivers and the inbox makes that harmless.
Under load a poll returns several records: those of one topic share one transaction, across its
partitions (one commit instead of one each), and if any of them fails the whole batch rolls back
and is applied again record by record, so batching never changes what is applied, only how many
commits it takes.
A handler that keeps failing is retried with backoff a bounded number of times and then
dead-lettered, so one poison message never stalls its partition. Losing the database is not the
message's fault: then the consumer waits and retries without dead-lettering anything.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from opentelemetry.trace import Span

from contracts.events import EVENT_TYPES, Event, current_type
from contracts.topics import dead_letter_topic
from eventkit import dbtrace, metrics, telemetry
from eventkit.dead_letter_alert import raise_dead_letter_alert
from eventkit.dlt import dead_letter_of, truncated
from eventkit.envelope import Envelope, MalformedMessage, decode
from eventkit.kafka import PLAINTEXT, KafkaSecurity, make_consumer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """Where an event came from, for handlers that record provenance."""

    envelope: Envelope
    topic: str
    partition: int
    offset: int


Handler = Callable[[asyncpg.Connection, Any, Message], Awaitable[None]]
_Decoded = tuple[ConsumerRecord[bytes, bytes], list[tuple[str, bytes]], Envelope, Event, Handler]


def tag_ids(event: Event) -> None:
    """The ids an event is about, on the span that processes it: done here, once, so that no
    handler has to remember it (ids only: the events carry no personal data)."""
    organisation = getattr(event, "organisation_id", None)
    if organisation is None:
        organisation = getattr(getattr(event, "organisation", None), "organisation_id", None)
    if organisation is None:
        organisation = getattr(event, "from_organisation_id", None)  # an escalation
    telemetry.tag(
        case_id=event.case_id, referral_id=getattr(event, "referral_id", None), organisation_id=organisation
    )


class PermanentFailure(Exception):
    """Raised by a handler for an event that can never be applied; it is dead-lettered at once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


_COMMIT_INTERVAL_S = 0.2
# After a poll that found records, a pause before the next one, so that under load what arrives
# meanwhile is applied together (one transaction, one inbox statement, one fetch) instead of one by
# one. It grows with the records the poll found (a sign of load) up to a cap, and an idle consumer's
# first record waits for nothing: the pause follows work only. Measured on the handoff bench
# (bench/handoff_latency.py, two cores), 50/s for 30 s: CPU per case 34.6 ms with no pause, 30.4
# with a fixed 10 ms, 27.9 with this; p99 445, 345 and 317 ms; at 20/s p50 32 ms either way. A
# steeper one (5 ms a record, up to 30) saved no more CPU and doubled the 50/s p50.
_GATHER_PER_RECORD_S = 0.003
_GATHER_MAX_S = 0.02


class EventConsumer:
    def __init__(
        self,
        *,
        group: str,
        handlers: Mapping[type[Event], Handler],
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        bootstrap_servers: str,
        security: KafkaSecurity = PLAINTEXT,
        max_attempts: int = 5,
        retry_base_s: float = 0.2,
        batch_size: int = 50,
    ) -> None:
        self.group = group
        self._handlers = dict(handlers)
        self.topics = sorted({event.TOPIC for event in handlers})
        # Types the contracts know but this group does not handle are skipped, not dead-lettered.
        self._registry = EVENT_TYPES | {event.TYPE: event for event in handlers}
        self._pool = pool
        self._producer = producer  # the service's idempotent producer, used for dead letters
        self._bootstrap = bootstrap_servers
        self._security = security
        self._max_attempts = max_attempts
        self._retry_base_s = retry_base_s
        # Bounded so that a batch's transaction holds its row locks only briefly.
        self._batch_size = max(1, batch_size)
        self._stopping = asyncio.Event()
        self.is_running = False
        # The broker client while running, for the consumer-lag gauge (eventkit.metrics).
        self.kafka: Any = None

    def stop(self) -> None:
        self._stopping.set()

    async def closed(self) -> None:
        """Nothing held between runs: each run opens and closes its own Kafka consumer."""

    async def run(self) -> None:
        consumer = make_consumer(
            self._bootstrap,
            *self.topics,
            group_id=self.group,
            client_id=f"{self.group}-consumer",
            security=self._security,
        )
        await consumer.start()
        self.is_running = True
        self.kafka = consumer
        log.info("consumer %s reading %s", self.group, ", ".join(self.topics))
        # Offsets of applied records, committed together at most every `_COMMIT_INTERVAL_S`
        # under load: an offset commit is a broker request, and one per poll costs the broker more
        # than the records. A crash before the commit only redelivers what the inbox has seen.
        applied: dict[TopicPartition, int] = {}
        loop = asyncio.get_running_loop()
        last_commit = loop.time()
        try:
            while not self._stopping.is_set():
                batches = await consumer.getmany(timeout_ms=250, max_records=500)
                # One topic at a time, its partitions' records in one transaction: a case never
                # spans two partitions, so records of different partitions are independent, and
                # within each partition they stay strictly in order. Topics in turn, not at once:
                # two of this consumer's transactions never wait on each other's row locks.
                for topic in sorted({tp.topic for tp in batches}):
                    done = await self._process_topic(
                        {tp: r for tp, r in batches.items() if tp.topic == topic}
                    )
                    applied |= {partition: last.offset + 1 for partition, last in done.items()}
                if applied and (not batches or loop.time() - last_commit >= _COMMIT_INTERVAL_S):
                    await self._commit(consumer, applied)
                    applied = {}
                    last_commit = loop.time()
                if batches:
                    found = sum(len(records) for records in batches.values())
                    await self._sleep(min(_GATHER_MAX_S, _GATHER_PER_RECORD_S * found))
        finally:
            self.is_running = False
            self.kafka = None
            if applied:
                await self._commit(consumer, applied)
            await consumer.stop()

    async def _process_topic(
        self, partitions: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> dict[TopicPartition, ConsumerRecord[bytes, bytes]]:
        """Apply one topic's records, returning the last one applied of each partition."""
        records = [record for batch in partitions.values() for record in batch]
        last: dict[TopicPartition, ConsumerRecord[bytes, bytes]] = {}
        for start in range(0, len(records), self._batch_size):
            if self._stopping.is_set():
                break  # the rest is redelivered after restart
            chunk = records[start : start + self._batch_size]
            with metrics.consuming(self.group, chunk[0].topic, len(chunk)):
                if len(chunk) > 1 and await self._apply_batch(chunk):
                    last |= {TopicPartition(r.topic, r.partition): r for r in chunk}
                    continue
                # Record by record, each partition in order, the partitions concurrently.
                by_partition: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
                for record in chunk:
                    by_partition.setdefault(TopicPartition(record.topic, record.partition), []).append(record)
                done = await asyncio.gather(
                    *(self._process_in_order(batch) for batch in by_partition.values())
                )
                last |= {
                    tp: record for tp, record in zip(by_partition, done, strict=True) if record is not None
                }
        return last

    async def _process_in_order(
        self, records: list[ConsumerRecord[bytes, bytes]]
    ) -> ConsumerRecord[bytes, bytes] | None:
        """Apply records one by one, in order; returns the last one applied."""
        last = None
        for record in records:
            if self._stopping.is_set():
                break  # finish the record in hand only
            await self._process(record)
            last = record
        return last

    async def _commit(self, consumer: Any, offsets: dict[TopicPartition, int]) -> None:
        # Partitions a rebalance took away meanwhile are left to their new owner.
        offsets = {tp: offset for tp, offset in offsets.items() if tp in consumer.assignment()}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as error:
            # A rebalance took partitions away; their new owner redelivers and the inbox dedupes.
            log.warning("offset commit failed (%s); redelivery is deduplicated", type(error).__name__)

    def _not_ours(self, record: ConsumerRecord[bytes, bytes], headers: list[tuple[str, bytes]]) -> bool:
        """A type that belongs on this topic but that this group does not act on (several share a
        topic): skipping it before decoding costs nothing and keeps the case's trace free of empty
        spans. A type on the wrong topic is decoded, so a bad one is dead-lettered."""
        known = self._registry.get(_header(headers, "ce_type") or "")
        return known is not None and record.topic == known.TOPIC and current_type(known) not in self._handlers

    def _span(
        self, record: ConsumerRecord[bytes, bytes], headers: list[tuple[str, bytes]]
    ) -> AbstractContextManager[Span]:
        return telemetry.process_span(
            record.topic,
            headers=headers,
            group=self.group,
            partition=record.partition,
            offset=record.offset,
            message_id=_header(headers, "ce_id"),
            key=record.key.decode("utf-8", errors="replace") if record.key else None,
        )

    async def _apply_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        """Apply `records` in one transaction; False, with nothing applied, if any of them cannot
        be (malformed, failing, or the database away): the caller then goes record by record."""
        work: list[_Decoded] = []
        for record in records:
            headers = list(record.headers or ())
            if self._not_ours(record, headers):
                continue
            try:
                envelope, event = decode(headers, record.value, self._registry)
            except MalformedMessage:
                return False  # dead-lettered in its place on the record-by-record path
            handler = self._handlers.get(type(event))
            if handler is not None:
                work.append((record, headers, envelope, event, handler))
        if not work:
            return True
        try:
            # The batch's transaction serves several cases' traces: it makes no span of its own.
            with dbtrace.figures_on(None):
                await self._apply_in_one_transaction(records[0].topic, work)
        except Exception as error:
            log.info(
                "consumer %s rolled back a batch of %d (%s); applying it record by record",
                self.group,
                len(work),
                type(error).__name__,
            )
            return False
        return True

    async def _apply_in_one_transaction(self, topic: str, work: list[_Decoded]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            fresh = set(
                await conn.fetchval(
                    """WITH applied AS (
                               INSERT INTO inbox (consumer, event_id, topic)
                               SELECT $1, event_id, $3 FROM unnest($2::uuid[]) AS event_id
                               ON CONFLICT DO NOTHING RETURNING event_id)
                           SELECT coalesce(array_agg(event_id), '{}') FROM applied""",
                    self.group,
                    [envelope.event_id for _, _, envelope, _, _ in work],
                    topic,
                )
            )
            for record, headers, envelope, event, handler in work:
                if envelope.event_id not in fresh:
                    continue  # applied before, or a second copy within this batch
                fresh.discard(envelope.event_id)
                with self._span(record, headers) as span:
                    span.set_attribute("messaging.batch.message_count", len(work))
                    tag_ids(event)
                    try:
                        await handler(
                            conn, event, Message(envelope, record.topic, record.partition, record.offset)
                        )
                    except Exception as error:
                        telemetry.record_error(span, error)
                        raise

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        headers = list(record.headers or ())
        if self._not_ours(record, headers):
            return
        with self._span(record, headers) as span:
            try:
                envelope, event = decode(headers, record.value, self._registry)
            except MalformedMessage as error:
                telemetry.record_error(span, error)
                await self._dead_letter(record, error.reason, attempts=0)
                return
            handler = self._handlers.get(type(event))
            if handler is None:
                return  # another event type on a topic we read; not ours to act on
            tag_ids(event)
            message = Message(envelope, record.topic, record.partition, record.offset)
            attempt = 0
            while True:
                attempt += 1
                try:
                    with dbtrace.figures_on(span):
                        await self._apply(handler, event, message)
                    return
                except PermanentFailure as error:
                    telemetry.record_error(span, error)
                    await self._dead_letter(record, error.reason, attempts=attempt)
                    return
                except _INFRASTRUCTURE_ERRORS as error:
                    # Not the message's fault: wait for the database without spending attempts.
                    attempt -= 1
                    log.warning("consumer %s waiting for its database (%s)", self.group, type(error).__name__)
                    await self._sleep(2.0)
                    if self._stopping.is_set():
                        raise
                except Exception as error:
                    telemetry.record_error(span, error)
                    if attempt >= self._max_attempts:
                        log.error(
                            "consumer %s gives up on %s after %d attempts: %s",
                            self.group,
                            envelope.event_id,
                            attempt,
                            type(error).__name__,
                        )
                        await self._dead_letter(
                            record, f"handler_error:{type(error).__name__}", attempts=attempt
                        )
                        return
                    delay = self._retry_base_s * 2 ** (attempt - 1) * (0.5 + random.random())  # noqa: S311
                    log.warning(
                        "consumer %s retrying %s in %.2fs (attempt %d: %s)",
                        self.group,
                        envelope.event_id,
                        delay,
                        attempt,
                        type(error).__name__,
                    )
                    await self._sleep(delay)

    async def _apply(self, handler: Handler, event: Event, message: Message) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                """INSERT INTO inbox (consumer, event_id, topic) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING RETURNING true""",
                self.group,
                message.envelope.event_id,
                message.topic,
            )
            if not inserted:
                return  # applied before: a redelivery after a crash or a replay
            await handler(conn, event, message)

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str, *, attempts: int) -> None:
        value, headers = dead_letter_of(record, group=self.group, reason=reason, attempts=attempts)
        target = dead_letter_topic(record.topic)
        while True:
            try:
                await self._producer.send_and_wait(target, value=value, key=record.key, headers=headers)
                metrics.dead_lettered(self.group, target)
                await raise_dead_letter_alert(self._producer, self.group, record, target)
                log.warning(
                    "dead-lettered %s[%d]@%d to %s: %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    target,
                    reason,
                )
                return
            except MessageSizeTooLargeError:
                # Nothing will make it fit as it is: keep a marked head and the whole one's hash.
                value, headers = truncated(value, headers)
            except KafkaError as error:
                # The offset must not move past a record that is in neither place.
                log.error("cannot dead-letter to %s (%s); retrying", target, type(error).__name__)
                await asyncio.sleep(1.0)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _header(headers: list[tuple[str, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == name and value is not None:
            return value.decode("utf-8", errors="replace")
    return None
