"""The operator replays a dead-lettered message from the dashboard, and it is processed."""

import asyncio
import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect
from support import wait_until

from contracts.events import ConsultationRecorded
from contracts.topics import CONSULTATIONS, dead_letter_topic
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from eventkit.envelope import encode_payload, new_envelope, to_kafka_headers
from eventkit.kafka import make_producer

pytestmark = pytest.mark.e2e


async def _dead_letter(servers: str, event: ConsultationRecorded) -> int:
    """A valid event as the consumer leaves it after a failure that has since been fixed."""
    headers = to_kafka_headers(new_envelope(event).headers())
    headers += [
        ("dlt.original.topic", CONSULTATIONS.name.encode()),
        ("dlt.original.partition", b"0"),
        ("dlt.original.offset", b"0"),
        ("dlt.consumer.group", b"referral"),
        ("dlt.error", b"e2e: the database was briefly read-only"),
        ("dlt.attempts", b"5"),
        ("dlt.failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    producer = make_producer(servers, client_id="e2e-browser-dlt")
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            dead_letter_topic(CONSULTATIONS.name),
            value=json.dumps(encode_payload(event)).encode(),
            key=str(event.case_id).encode(),
            headers=headers,
        )
    finally:
        await producer.stop()
    return int(sent.offset)


def test_the_operator_replays_a_dead_lettered_message_and_it_is_processed(
    ui: Any, system: Any, partner_factory: Any
) -> None:
    partner = partner_factory(topics=("LONELY",))
    case_id = uuid.uuid4()
    event = ConsultationRecorded(
        case_id=case_id,
        channel=Channel.PHONE,
        topic=Topic.LONELY,
        municipality_code=partner.municipality_code,
        severity=Severity.S3,
        lawful_basis=LawfulBasis.CONSENT,
        recorded_at=datetime.now(UTC),
        need_tags=(IssueTag.MON, IssueTag.ISO),
        age_band=AgeBand.ADULT,
        gender=Gender.FEMALE,
        language="ja",
    )
    servers = f"127.0.0.1:{system.stack.ports['kafka']}"
    # Playwright's sync API keeps an event loop on this thread: the producer runs on another.
    with ThreadPoolExecutor(1) as pool:
        offset = pool.submit(asyncio.run, _dead_letter(servers, event)).result()

    context = ui.context()
    page = context.new_page()
    errors = ui.watch(page)
    ui.sign_in(page, "operator")
    page.get_by_role("navigation").get_by_role("link", name="デッドレター").click()
    row = page.locator(f'section[data-topic="{CONSULTATIONS.name}"] tr[data-offset="{offset}"]')
    expect(row).to_contain_text("e2e: the database was briefly read-only")
    ui.shoot(page, "ops-dead-letters")
    with system.client("referral", "operator") as referral:
        assert referral.get("/v1/referrals", params={"case_id": str(case_id)}).json() == []

    row.get_by_role("button", name="再投入").click()
    expect(page.get_by_role("status")).to_contain_text("再投入しました")
    replayed = page.locator(f'section[data-topic="{CONSULTATIONS.name}"] tr[data-offset="{offset}"]')
    expect(replayed).to_contain_text("operator が")

    def referral_opened() -> bool:
        with system.client("referral", "operator") as referral:
            return bool(referral.get("/v1/referrals", params={"case_id": str(case_id)}).json())

    wait_until(referral_opened, timeout=30, what="the replayed consultation's referral")
    with system.client("referral", "operator") as referral:
        referral_id = referral.get("/v1/referrals", params={"case_id": str(case_id)}).json()[0]["id"]
    # The operator follows the case: its timeline, and its trace in Zipkin.
    page.goto(f"{ui.url}/ops/referrals/{referral_id}")
    expect(page.locator("main")).to_contain_text("依頼済み")
    expect(page.get_by_role("link", name="トレースを開く(Zipkin)")).to_have_attribute(
        "href", re.compile(r"/zipkin/traces/[0-9a-f]{32}$")
    )
    ui.shoot(page, "ops-referral-timeline")
    assert errors == []
    context.close()
