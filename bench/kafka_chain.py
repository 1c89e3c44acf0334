"""A bare 4-hop chain on the same broker: what a handoff's four Kafka hops cost without any work.

Four relay stages each consume one topic and produce to the next (the services' own client
settings from `eventkit.kafka`, offsets committed after the produce, as the services do after
their database commit), in a process of their own. One record at a time travels topic 0 → 4;
the time from its send to its arrival at the end is one sample. A handoff is intake →
referral → directory → referral → notify: the same four hops, plus the work.
"""

import asyncio
import multiprocessing
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.topics import TopicSpec
from eventkit.kafka import ensure_topics, make_consumer, make_producer

HOPS = 4


async def _relay(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, to: str) -> None:
    while True:
        batches = await consumer.getmany(timeout_ms=250, max_records=500)
        for records in batches.values():
            for record in records:
                await producer.send_and_wait(to, record.value, key=record.key)
        if batches:
            await consumer.commit()


async def _chain(servers: str, count: int) -> list[float]:
    prefix = f"bench.chain.{uuid.uuid4().hex[:8]}"
    topics = [f"{prefix}.{i}" for i in range(HOPS + 1)]
    await ensure_topics(servers, [TopicSpec(t, 1, "bench chain") for t in topics])
    producer = make_producer(servers, client_id="bench-chain")
    await producer.start()
    consumers = [
        make_consumer(servers, topics[i], group_id=f"{prefix}.{i}", client_id=f"bench-chain-{i}")
        for i in range(HOPS + 1)
    ]
    for consumer in consumers:
        await consumer.start()
    relays = [asyncio.create_task(_relay(consumers[i], producer, topics[i + 1])) for i in range(HOPS)]
    end = consumers[HOPS]
    samples: list[float] = []
    try:
        await asyncio.sleep(3.0)  # let every group settle on its partition first
        for n in range(count + 20):
            sent = time.perf_counter()
            await producer.send_and_wait(topics[0], b"x" * 600, key=str(n).encode())
            while not await end.getmany(timeout_ms=1000, max_records=1):
                pass
            if n >= 20:  # the first few warm the path up
                samples.append(time.perf_counter() - sent)
    finally:
        for relay in relays:
            relay.cancel()
        await asyncio.gather(*relays, return_exceptions=True)
        for consumer in consumers:
            await consumer.stop()
        await producer.stop()
    return samples


def _run(servers: str, count: int, out: "multiprocessing.Queue[list[float]]") -> None:
    out.put(asyncio.run(_chain(servers, count)))


def four_hop_chain(servers: str, count: int) -> list[float]:
    """Round trips through four consume→produce hops, measured in a process of its own."""
    out: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
    process = multiprocessing.Process(target=_run, args=(servers, count, out), daemon=True)
    process.start()
    samples = out.get(timeout=300)
    process.join(10)
    return samples
