"""Runs last: no personal data from these tests on any topic or in any exported span."""

import asyncio
import time

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from conftest import System
from support import PersonalData

from contracts.topics import ALL_TOPICS

pytestmark = pytest.mark.e2e


async def _every_record(servers: str) -> list[bytes]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        described = await admin.describe_topics([t.name for t in ALL_TOPICS])
    finally:
        await admin.close()
    partitions = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    blobs: list[bytes] = []
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).items():
                for r in records:
                    blobs.append((r.value or b"") + (r.key or b""))
                    blobs.extend(v for _, v in r.headers or () if v)
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return blobs


def test_no_personal_data_on_any_topic(system: System, personal_data: PersonalData) -> None:
    blobs = asyncio.run(_every_record(f"127.0.0.1:{system.stack.ports['kafka']}"))
    assert blobs, "the scan read nothing: the tests before it should have produced events"
    for value in personal_data.all():
        needle = value.encode("utf-8")
        assert not any(needle in blob for blob in blobs), f"personal data found on a topic: {value[:4]}…"


def test_no_personal_data_in_any_exported_span(system: System, personal_data: PersonalData) -> None:
    time.sleep(1.5)  # the exporters batch every 500 ms
    texts = []
    for service in ("intake", "referral", "directory", "notify"):
        response = httpx.get(
            f"{system.zipkin}/api/v2/traces",
            params={"serviceName": service, "limit": 100000, "lookback": 3 * 3600 * 1000},
            timeout=60,
        )
        assert response.status_code == 200
        texts.append(response.text)
    assert sum(len(t) for t in texts) > 1000, "no spans were exported"
    for value in personal_data.all():
        assert not any(value in t for t in texts), f"personal data found in a span: {value[:4]}…"


def test_no_personal_data_in_the_service_logs(system: System, personal_data: PersonalData) -> None:
    for service in ("intake", "referral", "directory", "notify"):
        log = system.stack.log_path(service)
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        for value in personal_data.all():
            assert value not in text, f"personal data in the {service} log"
