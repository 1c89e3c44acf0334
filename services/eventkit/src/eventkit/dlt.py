"""Dead letters: how a consumer writes one, and `python -m eventkit.dlt list TOPIC` and
`python -m eventkit.dlt replay TOPIC OFFSET` for the people who read and replay them.

TOPIC is the original topic (its `.dlt` sibling is read). A replay republishes the record to the
original topic with its original key, value and CloudEvents headers; consumers are idempotent, so
replaying twice is harmless.
"""

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import dead_letter_topic
from eventkit.kafka import make_producer

# A record near the broker's 1 MiB limit would not fit once the dlt.* headers are added; above
# this its dead letter carries the first DEAD_LETTER_HEAD_BYTES, the original size and a hash.
DEAD_LETTER_MAX_BYTES = 900_000
DEAD_LETTER_HEAD_BYTES = 64 * 1024


def _size(value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes]]) -> int:
    return len(value or b"") + len(key or b"") + sum(len(k) + len(v or b"") for k, v in headers)


def truncated(value: bytes | None, headers: list[tuple[str, bytes]]) -> tuple[bytes, list[tuple[str, bytes]]]:
    """What is left of a record too large to dead-letter whole: its head, marked, with the
    original's size and SHA-256 so that it can be matched with the producer's copy (the outbox)."""
    whole = value or b""
    if any(k == "dlt.truncated" for k, _ in headers):
        return whole[:1024], headers  # already cut once and still refused: keep almost nothing
    marked = [
        *headers,
        ("dlt.truncated", b"true"),
        ("dlt.original.size", str(len(whole)).encode()),
        ("dlt.original.sha256", hashlib.sha256(whole).hexdigest().encode()),
    ]
    return whole[:DEAD_LETTER_HEAD_BYTES], marked


def dead_letter_of(
    record: ConsumerRecord[bytes, bytes], *, group: str, reason: str, attempts: int
) -> tuple[bytes | None, list[tuple[str, bytes]]]:
    """The dead letter of a record: its value and headers, with where it came from and why."""
    headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlt.")]
    headers += [
        ("dlt.original.topic", record.topic.encode()),
        ("dlt.original.partition", str(record.partition).encode()),
        ("dlt.original.offset", str(record.offset).encode()),
        ("dlt.consumer.group", group.encode()),
        ("dlt.error", reason.encode("utf-8")[:500]),
        ("dlt.attempts", str(attempts).encode()),
        ("dlt.failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    if _size(record.value, record.key, headers) > DEAD_LETTER_MAX_BYTES:
        return truncated(record.value, headers)
    return record.value, headers


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    value: bytes | None

    def summary(self) -> dict[str, object]:
        # Headers only: the value is the original payload and is shown on request elsewhere.
        return {
            "dlt_offset": self.offset,
            "key": self.key,
            "original": f"{self.headers.get('dlt.original.topic')}"
            f"[{self.headers.get('dlt.original.partition')}]@{self.headers.get('dlt.original.offset')}",
            "error": self.headers.get("dlt.error"),
            "attempts": self.headers.get("dlt.attempts"),
            "consumer_group": self.headers.get("dlt.consumer.group"),
            "failed_at": self.headers.get("dlt.failed_at"),
            "ce_type": self.headers.get("ce_type"),
            "ce_id": self.headers.get("ce_id"),
        }


async def _partitions(servers: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, client_id="dlt-tool")
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            return []
        described = await admin.describe_topics([topic])
        return [TopicPartition(topic, p["partition"]) for p in described[0]["partitions"]]
    finally:
        await admin.close()


async def read_dead_letters(servers: str, topic: str) -> list[DeadLetter]:
    dlt = dead_letter_topic(topic)
    partitions = await _partitions(servers, dlt)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        while await _behind(consumer, partitions, end):
            batch = await consumer.getmany(timeout_ms=1000)
            letters += [letter_of(r) for records in batch.values() for r in records]
        return sorted(letters, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


def letter_of(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    return DeadLetter(
        record.topic,
        record.partition,
        record.offset,
        record.key.decode("utf-8", "replace") if record.key else None,
        {k: v.decode("utf-8", "replace") for k, v in (record.headers or ()) if v},
        record.value,
    )


async def read_dead_letter(servers: str, topic: str, offset: int, partition: int = 0) -> DeadLetter | None:
    """One dead letter, read by seeking straight to its offset (the broker's offset index), not by
    reading the topic from its beginning."""
    tp = TopicPartition(dead_letter_topic(topic), partition)
    if tp not in await _partitions(servers, tp.topic):
        return None
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        starts, ends = await consumer.beginning_offsets([tp]), await consumer.end_offsets([tp])
        if not starts[tp] <= offset < ends[tp]:
            return None
        consumer.seek(tp, offset)
        deadline = time.monotonic() + 10
        while await consumer.position(tp) <= offset and time.monotonic() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=1)
            for record in batch.get(tp, []):
                if record.offset == offset:
                    return letter_of(record)
        return None  # the offset held a transaction marker or a compacted-away record
    finally:
        await consumer.stop()


async def _behind(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], end: dict[TopicPartition, int]
) -> bool:
    for tp in partitions:
        if await consumer.position(tp) < end[tp]:
            return True
    return False


async def replay(servers: str, topic: str, offset: int, partition: int = 0) -> DeadLetter:
    found = await read_dead_letter(servers, topic, offset, partition)
    if found is None:
        raise LookupError(f"no dead letter at {dead_letter_topic(topic)}[{partition}]@{offset}")
    if found.headers.get("dlt.truncated") == "true":
        raise LookupError(
            f"the dead letter at {dead_letter_topic(topic)}[{partition}]@{offset} holds only the head of a "
            f"{found.headers.get('dlt.original.size')}-byte record (sha256 "
            f"{found.headers.get('dlt.original.sha256')}): it cannot be replayed as it is; find the "
            "whole record by its ce_id in the producer's outbox"
        )
    original = found.headers.get("dlt.original.topic", topic)
    headers = [(k, v.encode()) for k, v in found.headers.items() if not k.startswith("dlt.")]
    headers.append(("dlt.replayed_from", f"{dead_letter_topic(topic)}@{offset}".encode()))
    producer = make_producer(servers, client_id="dlt-replay")
    await producer.start()
    try:
        await producer.send_and_wait(
            original,
            value=found.value,
            key=found.key.encode() if found.key is not None else None,
            headers=headers,
        )
    finally:
        await producer.stop()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eventkit.dlt", description=__doc__)
    parser.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    )
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="show the dead letters of a topic")
    listing.add_argument("topic")
    again = sub.add_parser("replay", help="republish one dead letter to its original topic")
    again.add_argument("topic")
    again.add_argument("offset", type=int)
    again.add_argument("--partition", type=int, default=0)
    args = parser.parse_args(argv)
    topic = args.topic.removesuffix(".dlt")
    if args.command == "list":
        letters = asyncio.run(read_dead_letters(args.bootstrap_servers, topic))
        for letter in letters:
            print(json.dumps(letter.summary(), ensure_ascii=False))
        print(f"{len(letters)} dead letters on {dead_letter_topic(topic)}", file=sys.stderr)
        return 0
    try:
        letter = asyncio.run(replay(args.bootstrap_servers, topic, args.offset, args.partition))
    except LookupError as error:
        print(error, file=sys.stderr)
        return 1
    print(
        f"replayed {dead_letter_topic(topic)}@{letter.offset} to "
        f"{letter.headers.get('dlt.original.topic', topic)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
