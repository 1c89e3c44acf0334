"""The dead-letters page reads a page at a time on a real broker: the newest first, older pages by
offset, the total from the offsets; one dead letter by its offset; and the replays of only the
letters shown, from web's database."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import TopicSpec, dead_letter_topic
from eventkit import dlt
from eventkit.db import MigrationSource, create_pool, migrate
from eventkit.kafka import ensure_topics, make_producer
from web import service
from web.main import MIGRATIONS
from web.pipeline import Pipeline

COUNT = 120


@pytest.fixture
async def topic(infra: Any) -> AsyncIterator[str]:
    """A topic of this test's own whose `.dlt` holds COUNT dead letters at offsets 0 … COUNT-1."""
    name = f"test.deadletters.{uuid.uuid4().hex[:8]}"
    servers = infra.kafka_bootstrap_servers
    await ensure_topics(servers, [TopicSpec(dead_letter_topic(name), 1, "test dead letters")])
    producer = make_producer(servers, client_id="test-dead-letters")
    await producer.start()
    try:
        for i in range(COUNT):
            headers = [("dlt.error", f"failure {i}".encode()), ("dlt.original.offset", str(i).encode())]
            await producer.send_and_wait(dead_letter_topic(name), b"{}", key=str(i).encode(), headers=headers)
    finally:
        await producer.stop()
    yield name
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, client_id="test-dead-letters")
    await admin.start()
    try:
        await admin.delete_topics([dead_letter_topic(name)])
    finally:
        await admin.close()


@pytest.fixture
async def pipeline(infra: Any) -> AsyncIterator[Pipeline]:
    opened = Pipeline(infra.kafka_bootstrap_servers)
    yield opened
    await opened.close()


async def test_pages_go_from_the_newest_back_by_offset_and_the_total_counts_them_all(
    pipeline: Pipeline, topic: str
) -> None:
    newest = await pipeline.dead_letters(topic, limit=50)
    assert newest.total == COUNT
    assert [d.offset for d in newest.letters] == list(range(119, 69, -1))
    assert newest.letters[0].headers["dlt.error"] == "failure 119"
    older = await pipeline.dead_letters(topic, limit=50, before=newest.older)
    assert [d.offset for d in older.letters] == list(range(69, 19, -1))
    oldest = await pipeline.dead_letters(topic, limit=50, before=older.older)
    assert [d.offset for d in oldest.letters] == list(range(19, -1, -1))
    assert oldest.older is None


async def test_a_topic_without_dead_letters_is_an_empty_page(pipeline: Pipeline) -> None:
    page = await pipeline.dead_letters(f"test.none.{uuid.uuid4().hex[:8]}", limit=50)
    assert (page.letters, page.total, page.older) == ([], 0, None)


async def test_one_dead_letter_is_read_by_its_offset_and_an_offset_out_of_range_is_none(
    infra: Any, topic: str
) -> None:
    found = await dlt.read_dead_letter(infra.kafka_bootstrap_servers, topic, 57)
    assert found is not None and found.offset == 57 and found.key == "57"
    assert await dlt.read_dead_letter(infra.kafka_bootstrap_servers, topic, COUNT) is None


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(fresh_database, [MigrationSource("web", MIGRATIONS)])
    created = await create_pool(fresh_database, min_size=1, max_size=2)
    yield created
    await created.close()


async def test_the_page_reads_the_latest_replay_of_only_the_letters_it_shows(pool: asyncpg.Pool) -> None:
    for offset, who in ((5, "first"), (5, "second"), (6, "other"), (900, "elsewhere")):
        await service.record_replay(pool, topic="t", partition=0, offset=offset, replayed_by=who)
    await service.record_replay(pool, topic="u", partition=0, offset=5, replayed_by="other topic")
    found = await service.replays_of(pool, topic="t", letters=[(0, 5), (0, 6), (0, 7)])
    assert {key: who for key, (who, _) in found.items()} == {(0, 5): "second", (0, 6): "other"}
