"""A malformed message on any consumed topic is dead-lettered and the topic keeps flowing."""

import asyncio
import json
import uuid

import pytest
from conftest import Receiver, System
from support import PersonalData, consultation_body

from contracts.topics import SUBSCRIPTIONS, dead_letter_topic
from eventkit.dlt import read_dead_letters
from eventkit.kafka import make_producer

CONSUMED = sorted({(spec.name, group) for group, specs in SUBSCRIPTIONS.items() for spec in specs})


async def _produce_poison(servers: str, topic: str, key: str) -> None:
    producer = make_producer(servers, client_id="e2e-poison")
    await producer.start()
    try:
        headers = [
            ("ce_specversion", b"1.0"),
            ("ce_id", str(uuid.uuid4()).encode()),
            ("ce_type", b"consultation.recorded.v1"),
            ("ce_source", b"/e2e"),
            ("ce_time", b"2026-05-03T00:00:00+00:00"),
            ("content-type", b"application/json"),
        ]
        await producer.send_and_wait(
            topic, value=b'{"this is": "not the contract"', key=key.encode(), headers=headers
        )
    finally:
        await producer.stop()


@pytest.mark.parametrize(("topic", "group"), CONSUMED)
def test_a_malformed_message_is_dead_lettered_while_later_messages_still_flow(
    system: System,
    receiver: Receiver,
    partner_factory,
    personal_data: PersonalData,
    topic: str,
    group: str,  # type: ignore[no-untyped-def]
) -> None:
    servers = f"127.0.0.1:{system.stack.ports['kafka']}"
    key = str(uuid.uuid4())  # the key picks the partition: any later case may share it
    asyncio.run(_produce_poison(servers, topic, key))

    partner = partner_factory()
    with system.client("intake", "counsellor") as intake:
        case_id = intake.post(
            "/v1/consultations", json=consultation_body(personal_data, partner.municipality_code)
        ).json()["case_id"]
    receiver.wait_for(lambda: len(receiver.for_case(case_id)) == 1, timeout=45)

    def dead_lettered() -> list[dict[str, str]]:
        letters = asyncio.run(read_dead_letters(servers, topic))
        return [d.headers for d in letters if d.key == key and d.headers.get("dlt.consumer.group") == group]

    deadline = 30.0
    found: list[dict[str, str]] = []
    while deadline > 0 and not found:
        found = dead_lettered()
        if not found:
            asyncio.run(asyncio.sleep(0.5))
            deadline -= 0.5
    assert len(found) == 1, f"{group} did not dead-letter the poison message on {topic}"
    headers = found[0]
    assert headers["dlt.original.topic"] == topic
    assert headers["dlt.error"] == "value_is_not_json"
    assert {"dlt.original.partition", "dlt.original.offset", "dlt.failed_at"} <= set(headers)
    assert dead_letter_topic(topic).endswith(".dlt")
    json.dumps(headers)
