"""Topics are created on the real broker with the deployment's retention and in-sync replicas."""

import uuid

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts.topics import TopicSpec
from eventkit.kafka import DAY_MS, TopicPolicy, ensure_topics
from eventkit.testing import Infra


async def test_event_and_dead_letter_topics_get_their_own_retention(infra: Infra) -> None:
    name = f"test.settings.{uuid.uuid4().hex[:8]}"
    specs = [TopicSpec(name, 1, "events"), TopicSpec(f"{name}.dlt", 1, "dead letters")]
    policy = TopicPolicy(retention_ms=2 * DAY_MS, dead_letter_retention_ms=400 * DAY_MS)

    created = await ensure_topics(infra.kafka_bootstrap_servers, specs, policy=policy)
    again = await ensure_topics(infra.kafka_bootstrap_servers, specs, policy=policy)

    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, s.name) for s in specs]
        )
    finally:
        await admin.close()
    retention = {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}["retention.ms"]
        for response in described
        for resource in response.resources
    }
    assert (sorted(created), again) == (sorted(s.name for s in specs), [])
    assert retention == {name: str(2 * DAY_MS), f"{name}.dlt": str(400 * DAY_MS)}
