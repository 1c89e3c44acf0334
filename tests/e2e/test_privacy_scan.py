"""No personal data on any topic, in any exported span or in any service log.

The scan records its own serious case with the session's personal data first and follows it to
its partner and into every service's spans, so it has something to find however it is run (alone,
under -k, in any order). The other e2e tests record the same session's personal data, so a scan
that runs after them covers their cases too.
"""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from conftest import Receiver, System, register_partner, remove_partners
from support import PersonalData, consultation_body, trace_services, wait_until

from contracts.topics import ALL_TOPICS

SERVICES = ("intake", "referral", "directory", "notify")


@dataclass(frozen=True)
class RecordedCase:
    case_id: str
    trace_id: str


@pytest.fixture(scope="module")
def recorded(system: System, receiver: Receiver, personal_data: PersonalData) -> Iterator[RecordedCase]:
    """A serious case carrying the personal data, through all four services to its partner."""
    created: list[str] = []
    try:
        partner = register_partner(system, receiver, created)
        with system.client("intake", "counsellor") as intake:
            response = intake.post(
                "/v1/consultations", json=consultation_body(personal_data, partner.municipality_code)
            )
        assert response.status_code == 201, response.text
        case_id = response.json()["case_id"]
        receiver.wait_for(lambda: len(receiver.for_case(case_id)) >= 1)
        trace_id = receiver.for_case(case_id)[0].headers["traceparent"].split("-")[1]
        # Each service exports its spans on its own schedule: wait for all four.
        wait_until(
            lambda: trace_services(system.zipkin, trace_id) >= set(SERVICES),
            what="spans of the recorded case from all four services",
        )
        yield RecordedCase(case_id, trace_id)
    finally:
        remove_partners(system, created)


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


def test_no_personal_data_on_any_topic(
    system: System, recorded: RecordedCase, personal_data: PersonalData
) -> None:
    blobs = asyncio.run(_every_record(f"127.0.0.1:{system.stack.ports['kafka']}"))
    assert any(recorded.case_id.encode() in blob for blob in blobs), "the scan did not read the case's events"
    for value in personal_data.all():
        needle = value.encode("utf-8")
        assert not any(needle in blob for blob in blobs), f"personal data found on a topic: {value[:4]}…"


def test_no_personal_data_in_any_exported_span(
    system: System, recorded: RecordedCase, personal_data: PersonalData
) -> None:
    time.sleep(1.5)  # the exporters batch every 500 ms: the other tests' last spans too
    texts = []
    for service in SERVICES:
        response = httpx.get(
            f"{system.zipkin}/api/v2/traces",
            params={"serviceName": service, "limit": 100000, "lookback": 3 * 3600 * 1000},
            timeout=60,
        )
        assert response.status_code == 200
        texts.append(response.text)
    assert all(recorded.trace_id in text for text in texts), "the scan did not read the case's spans"
    for value in personal_data.all():
        assert not any(value in t for t in texts), f"personal data found in a span: {value[:4]}…"


def test_no_personal_data_in_the_service_logs(
    system: System, recorded: RecordedCase, personal_data: PersonalData
) -> None:
    logs = {service: system.stack.log_path(service) for service in SERVICES}
    missing = [f"{service} ({path})" for service, path in logs.items() if not path.is_file()]
    assert not missing, f"no log to scan for {', '.join(missing)}"

    def read_all() -> dict[str, str]:
        return {s: path.read_text(encoding="utf-8", errors="replace") for s, path in logs.items()}

    # The logs are the ones the running services write: the recorded case's trace is in them.
    wait_until(
        lambda: any(recorded.trace_id in text for text in read_all().values()),
        timeout=10,
        what="the recorded case in the service logs",
    )
    for service, text in read_all().items():
        assert text.strip(), f"the {service} log at {logs[service]} is empty"
        for value in personal_data.all():
            assert value not in text, f"personal data in the {service} log"
