"""The dead-letters page with 10,000 dead letters: what its broker reads cost, before and after paging.

Seeds 10,000 dead letters (the headers a consumer writes, a 1 KiB payload each) on a bench topic's
`.dlt` sibling of its own, so the stack's real dead letters are left alone, then times:

- the page's read as it is now (`web.pipeline.Pipeline.dead_letters`): the newest 50, found by
  seeking to the end offset minus 50 (the broker's offset index), on the dashboard's shared
  connection — the page makes one such read per event topic;
- the next older page (`before=<oldest offset shown>`);
- the read the page used to make (`eventkit.dlt.read_dead_letters`: every dead letter from the
  beginning, on a new connection), for comparison.

Prints each as median and worst of its runs. The bench topic is deleted at the end.
Usage: .venv/bin/python bench/dead_letters_page.py [--count 10000] [--runs 20]
"""

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import EVENT_TOPICS, TopicSpec, dead_letter_topic
from eventkit import dlt
from eventkit.kafka import ensure_topics, make_producer
from web.pipeline import Pipeline

PAGE = 50


async def _seed(servers: str, topic: str, count: int) -> None:
    producer = make_producer(servers, client_id="bench-dead-letters")
    await producer.start()
    try:
        payload = b'{"note": "' + b"x" * 1000 + b'"}'
        sent = []
        for i in range(count):
            headers = [
                ("ce_type", b"consultation.recorded.v1"),
                ("ce_id", str(uuid.uuid4()).encode()),
                ("dlt.original.topic", topic.encode()),
                ("dlt.original.partition", b"0"),
                ("dlt.original.offset", str(i).encode()),
                ("dlt.consumer.group", b"referral"),
                ("dlt.error", b"bench: the database was briefly read-only"),
                ("dlt.attempts", b"5"),
                ("dlt.failed_at", datetime.now(UTC).isoformat().encode()),
            ]
            sent.append(
                await producer.send(dead_letter_topic(topic), payload, key=str(i).encode(), headers=headers)
            )
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _timed(runs: int, read: object) -> tuple[float, float, int]:
    samples: list[float] = []
    shown = 0
    for _ in range(runs):
        started = time.perf_counter()
        shown = await read()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples), shown


async def main(servers: str, count: int, runs: int) -> None:
    topic = f"bench.deadletters.{uuid.uuid4().hex[:8]}"
    await ensure_topics(servers, [TopicSpec(dead_letter_topic(topic), 1, "bench dead letters")])
    pipeline = Pipeline(servers)
    try:
        started = time.perf_counter()
        await _seed(servers, topic, count)
        print(
            f"seeded {count} dead letters on {dead_letter_topic(topic)} in {time.perf_counter() - started:.1f} s"
        )

        first = await pipeline.dead_letters(topic, limit=PAGE)  # opens the shared connection
        assert first.total == count and len(first.letters) == PAGE, (first.total, len(first.letters))

        async def newest() -> int:
            return len((await pipeline.dead_letters(topic, limit=PAGE)).letters)

        async def older() -> int:
            return len((await pipeline.dead_letters(topic, limit=PAGE, before=first.older)).letters)

        async def whole_page() -> int:
            # What the page does: the newest page of each of the 5 event topics, one after another.
            return sum([await newest() for _ in EVENT_TOPICS])

        async def everything() -> int:
            return len(await dlt.read_dead_letters(servers, topic))

        for name, read, times in (
            ("newest page (now)", newest, runs),
            ("older page (now)", older, runs),
            (f"the page's {len(EVENT_TOPICS)} reads (now)", whole_page, runs),
            ("every dead letter (before)", everything, 3),
        ):
            median, worst, shown = await _timed(times, read)
            print(
                f"{name:<28} {shown:>6} letters  median {median:8.1f} ms  worst {worst:8.1f} ms  ({times} runs)"
            )
        print("(the page also looks up the shown letters' replays in web's database, by its index)")
    finally:
        await pipeline.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=servers, client_id="bench-dead-letters")
        await admin.start()
        try:
            await admin.delete_topics([dead_letter_topic(topic)])
        finally:
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.bootstrap_servers, args.count, args.runs))
