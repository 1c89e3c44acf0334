"""Kafka clients with the settings our guarantees need (aiokafka's defaults are at-most-once), the
connection's security (TLS, SASL/SCRAM) and the topics' own settings (replication, retention)."""

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.helpers import create_ssl_context

from contracts.topics import DLT_SUFFIX, TopicSpec

log = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class KafkaSecurity:
    """How a client authenticates to the broker: PLAINTEXT (the local stack), SSL, or SASL
    (SCRAM-SHA-256/512, or PLAIN) over plain TCP or TLS. Passwords are given, never logged."""

    protocol: str = "PLAINTEXT"  # PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    sasl_mechanism: str | None = None  # SCRAM-SHA-512 | SCRAM-SHA-256 | PLAIN
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(
                cafile=self.ca_file, certfile=self.cert_file, keyfile=self.key_file
            )
        if self.protocol.startswith("SASL"):
            options |= {
                "sasl_mechanism": self.sasl_mechanism or "SCRAM-SHA-512",
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return options


PLAINTEXT = KafkaSecurity()


@dataclass(frozen=True)
class TopicPolicy:
    """The topics' settings in a deployment: three replicas and two in sync in production; one on a
    development machine. Dead letters are kept a year (a person replays them; nothing must expire
    before someone looked), events a week beyond the outbox's own copy."""

    replication_factor: int = 1
    min_insync_replicas: int = 1
    retention_ms: int = 7 * DAY_MS
    dead_letter_retention_ms: int = 365 * DAY_MS

    def configs(self, spec: TopicSpec) -> dict[str, str]:
        retention = self.dead_letter_retention_ms if spec.name.endswith(DLT_SUFFIX) else self.retention_ms
        return {"min.insync.replicas": str(self.min_insync_replicas), "retention.ms": str(retention)}


def make_producer(
    bootstrap_servers: str, *, client_id: str, security: KafkaSecurity = PLAINTEXT
) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,  # implies acks=all; retries cannot duplicate or reorder
        linger_ms=0,
        request_timeout_ms=15_000,
        **security.client_options(),
    )


def make_consumer(
    bootstrap_servers: str,
    *topics: str,
    group_id: str,
    client_id: str,
    security: KafkaSecurity = PLAINTEXT,
) -> AIOKafkaConsumer:
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
        **security.client_options(),
    )


async def ensure_topics(
    bootstrap_servers: str,
    specs: Iterable[TopicSpec],
    *,
    policy: TopicPolicy = TopicPolicy(),
    security: KafkaSecurity = PLAINTEXT,
    timeout_s: float = 60.0,
) -> list[str]:
    """Create the topics that do not exist yet (auto-creation is off on our brokers), with the
    policy's replication and retention."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="topic-admin", **security.client_options()
    )
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        s.name,
                        num_partitions=s.partitions,
                        replication_factor=policy.replication_factor,
                        topic_configs=policy.configs(s),
                    )
                    for s in missing
                ]
            )
        return [spec.name for spec in missing]
    finally:
        await admin.close()
