"""Kafka clients with the settings our guarantees need (aiokafka's defaults are at-most-once)."""

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.topics import TopicSpec

log = logging.getLogger(__name__)


def make_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,  # implies acks=all; retries cannot duplicate or reorder
        linger_ms=2,
        request_timeout_ms=15_000,
    )


def make_consumer(bootstrap_servers: str, *topics: str, group_id: str, client_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,  # offsets move only after the database committed
        auto_offset_reset="earliest",  # a new group must not skip what was already published
        isolation_level="read_committed",
        max_poll_interval_ms=300_000,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
    )


async def ensure_topics(
    bootstrap_servers: str, specs: Iterable[TopicSpec], *, timeout_s: float = 60.0
) -> list[str]:
    """Create the topics that do not exist yet (auto-creation is off on our brokers)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="topic-admin")
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(s.name, num_partitions=s.partitions, replication_factor=1) for s in missing]
            )
        return [spec.name for spec in missing]
    finally:
        await admin.close()
