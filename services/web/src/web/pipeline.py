"""What the operator dashboard reads from the broker itself: consumer lag, dead letters, hourly volume.

Read without a consumer group (assign + offsets only), so looking never moves anyone's offsets.
Messages are never decoded here except the operator alerts, which carry ids and codes only.
"""

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import EVENT_TOPICS, OPS_ALERTS, SUBSCRIPTIONS, dead_letter_topic
from eventkit import dlt, telemetry

log = logging.getLogger(__name__)

# Every service's consumer group is named after the service.
GROUPS = ("intake", "referral", "directory", "notify")


@dataclass(frozen=True)
class GroupLag:
    group: str
    lag: int | None  # None: the group has committed nothing (or does not consume)
    topics: tuple[str, ...]


@dataclass(frozen=True)
class HourCount:
    hour: datetime
    count: int


@dataclass(frozen=True)
class Snapshot:
    lag: list[GroupLag]
    dead_letters: dict[str, int]
    taken_at: float


@dataclass(frozen=True)
class LetterPage:
    letters: list[dlt.DeadLetter]  # newest first
    total: int  # every dead letter of the topic
    older: int | None  # `before` for the next, older page; None on the oldest page


def _alert(value: bytes | None, timestamp: int) -> list[dict[str, Any]]:
    try:
        payload = json.loads(value) if value else None
    except ValueError:
        return []
    if not isinstance(payload, dict):
        return []
    payload["_timestamp"] = timestamp
    return [payload]


class Pipeline:
    """One broker connection shared by every open dashboard, with a short cache."""

    def __init__(self, bootstrap_servers: str, *, cache_s: float = 2.0) -> None:
        self._servers = bootstrap_servers
        self._cache_s = cache_s
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()
        self._snapshot: Snapshot | None = None
        self._hourly: tuple[float, dict[str, list[HourCount]]] | None = None

    async def _clients(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient]:
        if self._consumer is None or self._admin is None:
            consumer = AIOKafkaConsumer(bootstrap_servers=self._servers, enable_auto_commit=False)
            admin = AIOKafkaAdminClient(bootstrap_servers=self._servers, client_id="web-dashboard")
            await consumer.start()
            try:
                await admin.start()
            except Exception:
                await consumer.stop()
                raise
            self._consumer, self._admin = consumer, admin
        return self._consumer, self._admin

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._admin is not None:
            await self._admin.close()
        self._consumer = self._admin = None

    async def _partitions(self, topic: str) -> list[TopicPartition]:
        consumer, _ = await self._clients()
        found = consumer.partitions_for_topic(topic)
        if found is None:
            await consumer._client.force_metadata_update()
            found = consumer.partitions_for_topic(topic) or set()
        return [TopicPartition(topic, p) for p in sorted(found)]

    async def snapshot(self) -> Snapshot:
        async with self._lock:
            if self._snapshot and time.monotonic() - self._snapshot.taken_at < self._cache_s:
                return self._snapshot
            with telemetry.quiet():
                self._snapshot = await self._take_snapshot()
            return self._snapshot

    async def _take_snapshot(self) -> Snapshot:
        consumer, admin = await self._clients()
        lag: list[GroupLag] = []
        for group in GROUPS:
            topics = tuple(t.name for t in SUBSCRIPTIONS.get(group, ()))
            committed = await admin.list_consumer_group_offsets(group)
            mine = {tp: meta for tp, meta in committed.items() if tp.topic in topics}
            if not mine:
                lag.append(GroupLag(group, None, topics))
                continue
            partitions = [tp for topic in topics for tp in await self._partitions(topic)]
            ends = await consumer.end_offsets(partitions)
            total = 0
            for tp in partitions:
                meta = mine.get(tp)
                done = meta.offset if meta is not None and meta.offset >= 0 else 0
                total += max(ends.get(tp, 0) - done, 0)
            lag.append(GroupLag(group, total, topics))
        dead: dict[str, int] = {}
        for spec in EVENT_TOPICS:
            partitions = await self._partitions(dead_letter_topic(spec.name))
            if not partitions:
                dead[spec.name] = 0
                continue
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
            dead[spec.name] = sum(ends[tp] - starts[tp] for tp in partitions)
        return Snapshot(lag=lag, dead_letters=dead, taken_at=time.monotonic())

    async def hourly(
        self, topics: tuple[str, ...], *, now: datetime | None = None
    ) -> dict[str, list[HourCount]]:
        """Records per hour over the last 24 hours, from the broker's timestamp index."""
        async with self._lock:
            if self._hourly and time.monotonic() - self._hourly[0] < 30:
                return self._hourly[1]
            with telemetry.quiet():
                result = await self._count_hourly(topics, now or datetime.now(UTC))
            self._hourly = (time.monotonic(), result)
            return result

    async def _count_hourly(self, topics: tuple[str, ...], now: datetime) -> dict[str, list[HourCount]]:
        consumer, _ = await self._clients()
        top = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        bounds = [top - timedelta(hours=24 - i) for i in range(25)]
        result: dict[str, list[HourCount]] = {}
        for topic in topics:
            partitions = await self._partitions(topic)
            ends = await consumer.end_offsets(partitions) if partitions else {}
            offsets_at: list[int] = []
            for bound in bounds:
                millis = int(bound.timestamp() * 1000)
                found = (
                    await consumer.offsets_for_times(dict.fromkeys(partitions, millis)) if partitions else {}
                )
                total = 0
                for tp in partitions:
                    hit = found.get(tp)
                    total += hit.offset if hit is not None else ends[tp]
                offsets_at.append(total)
            result[topic] = [
                HourCount(bounds[i], max(offsets_at[i + 1] - offsets_at[i], 0)) for i in range(24)
            ]
        return result

    async def recent_alerts(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """The newest operator alerts (`ops.alerts.v1`): ids, kinds and codes only."""
        alerts: list[dict[str, Any]] = []
        async with self._lock:
            with telemetry.quiet():
                consumer, _ = await self._clients()
                partitions = await self._partitions(OPS_ALERTS.name)
                if not partitions:
                    return []
                ends = await consumer.end_offsets(partitions)
                starts = await consumer.beginning_offsets(partitions)
                consumer.assign(partitions)
                for tp in partitions:
                    consumer.seek(tp, max(starts[tp], ends[tp] - limit))
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    behind = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
                    if not behind:
                        break
                    batch = await consumer.getmany(*behind, timeout_ms=500)
                    for records in batch.values():
                        for record in records:
                            alerts.extend(_alert(record.value, record.timestamp))
                consumer.assign([])
        alerts.sort(key=lambda a: a.get("_timestamp", 0), reverse=True)
        return alerts[:limit]

    async def dead_letters(self, topic: str, *, limit: int, before: int | None = None) -> LetterPage:
        """The newest `limit` dead letters of a topic older than offset `before`, newest first.

        Reads only those: each partition is sought to its offset (the broker's offset index) instead
        of being read from the beginning, so a page costs the same with 10 or 10,000 dead letters.
        Dead-letter topics have one partition; with more, `before` bounds each of them alike.
        """
        async with self._lock:
            with telemetry.quiet():
                consumer, _ = await self._clients()
                partitions = await self._partitions(dead_letter_topic(topic))
                if not partitions:
                    return LetterPage([], 0, None)
                ends = await consumer.end_offsets(partitions)
                starts = await consumer.beginning_offsets(partitions)
                stops = {
                    tp: ends[tp] if before is None else max(min(ends[tp], before), starts[tp])
                    for tp in partitions
                }
                letters: list[dlt.DeadLetter] = []
                consumer.assign(partitions)
                try:
                    for tp in partitions:
                        consumer.seek(tp, max(starts[tp], stops[tp] - limit))
                    deadline = time.monotonic() + 5
                    while time.monotonic() < deadline:
                        behind = [tp for tp in partitions if await consumer.position(tp) < stops[tp]]
                        if not behind:
                            break
                        batch = await consumer.getmany(*behind, timeout_ms=500)
                        for tp, records in batch.items():
                            letters += [dlt.letter_of(r) for r in records if r.offset < stops[tp]]
                finally:
                    consumer.assign([])
        letters.sort(key=lambda d: (d.offset, d.partition), reverse=True)
        shown = letters[:limit]
        oldest = min((d.offset for d in shown), default=None)
        more = oldest is not None and any(starts[tp] < oldest for tp in partitions)
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        return LetterPage(shown, total, oldest if more else None)

    async def replay(self, topic: str, offset: int, partition: int = 0) -> dlt.DeadLetter:
        letter = await dlt.replay(self._servers, topic, offset, partition)
        async with self._lock:
            self._snapshot = None
        return letter
