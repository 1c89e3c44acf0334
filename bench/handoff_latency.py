"""Load on the running stack: intake throughput and POST → webhook latency, beside Kafka baselines.

    make up && .venv/bin/python bench/handoff_latency.py [--rate 50] [--seconds 20] [--find-max]

Prints:
- baselines, same broker, same run: a bare produce→consume round trip, and a bare 4-hop chain
  (consume → produce through four topics, the services' client settings: what a handoff's four
  hops cost without work), each p50/p95/p99;
- handoff: the time from a serious consultation's POST to its signed webhook's arrival at a
  partner endpoint, at an open-loop rate (p50/p95/p99), how many were lost or duplicated, and the
  ratios of its p50 and p99 to the 4-hop chain's;
- CPU milliseconds per case of each process (the four services, PostgreSQL with its backends,
  Kafka, the trace backend) over the measured window, from /proc, and their total;
- resident memory of each Python service after the run;
- throughput: consultations accepted per second by intake at a fixed concurrency;
- with `--find-max`: the rate raised step by step until p99 passes 1 s (or a case is lost), and
  the highest rate held.
Everything runs on this machine; the numbers include all four services, PostgreSQL and Kafka
sharing its cores.

The bench registers a partner of its own (in a municipality no other organisation covers), warms
the system up first (`--warmup`), and afterwards accepts every handoff it received and removes its
partner, so that one run leaves nothing behind to escalate during the next.
"""

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import queue
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))
from aiokafka import AIOKafkaConsumer
from kafka_chain import four_hop_chain
from procstat import Component, cpu_snapshot, machine_snapshot, outside_load, per_case_ms, rss_snapshot
from tsunagu_stack import Stack

from contracts.municipality import register
from contracts.topics import TopicSpec
from eventkit.kafka import ensure_topics, make_producer

SERVICES = ("intake", "referral", "directory", "notify")
T = TypeVar("T")


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    return (
        f"p50 {quantile(samples, 0.50) * 1000:7.1f} ms   p95 {quantile(samples, 0.95) * 1000:7.1f} ms   "
        f"p99 {quantile(samples, 0.99) * 1000:7.1f} ms   (n={len(samples)})"
    )


def components(stack: Any) -> list[Component]:
    """The processes a handoff runs through, by the pids the local stack keeps."""
    found = []
    for name in (*SERVICES, "kafka", "zipkin"):
        pid = stack.running_pid(name)
        if pid is not None:
            found.append(Component(name, pid))
    postmaster = stack.pg_data_dir / "postmaster.pid"
    if postmaster.exists():
        found.append(Component("postgresql", int(postmaster.read_text().split()[0])))
    return found


@dataclass(frozen=True)
class Meters:
    """Where a run's costs are read: the stack's processes, and PostgreSQL's statistics."""

    parts: list[Component]
    admin_url: str

    async def commits(self) -> dict[str, int]:
        """Committed transactions so far, by service database (pg_stat_database)."""
        conn = await asyncpg.connect(self.admin_url)
        try:
            rows = await conn.fetch(
                "SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1::text[])",
                list(SERVICES),
            )
        finally:
            await conn.close()
        return {row["datname"]: row["xact_commit"] for row in rows}


@dataclass(frozen=True)
class Costs:
    """What a run cost: CPU ms and database transactions per case, and the load beside it."""

    cpu: dict[str, float]
    commits: dict[str, float]
    outside: dict[str, float]


async def costs_of(meters: Meters, cases: int, run: Awaitable[T]) -> tuple[T, Costs]:
    commits, before, machine = await meters.commits(), cpu_snapshot(meters.parts), machine_snapshot()
    result = await run
    after = cpu_snapshot(meters.parts)
    outside = outside_load(machine, machine_snapshot(), sum(after.values()) - sum(before.values()))
    # PostgreSQL publishes a backend's counts within a second of its commits: the run's tail covers it.
    committed = {
        name: (n - commits.get(name, 0)) / max(cases, 1) for name, n in (await meters.commits()).items()
    }
    return result, Costs(per_case_ms(before, after, cases), committed, outside)


def print_costs(costs: Costs, rss: dict[str, int]) -> None:
    print("  CPU per case (ms), measured window:")
    for name, ms in sorted(costs.cpu.items(), key=lambda item: -item[1]):
        print(f"    {name:12s} {ms:7.1f}")
    print(f"    {'total':12s} {sum(costs.cpu.values()):7.1f}")
    print("  database transactions per case, by service:")
    for name, n in costs.commits.items():
        print(f"    {name:12s} {n:7.1f}")
    print(f"    {'total':12s} {sum(costs.commits.values()):7.1f}")
    print("  beside the stack, same window (CPU ms a second; two cores give 2,000):")
    for name, per_second in costs.outside.items():
        print(f"    {name:16s} {per_second:7.0f}")
    print("  resident memory after the run:")
    for name in SERVICES:
        if name in rss:
            print(f"    {name:12s} {rss[name] / 2**20:7.1f} MB")


async def baseline(servers: str, count: int) -> list[float]:
    topic = f"bench.roundtrip.{uuid.uuid4().hex[:8]}"
    await ensure_topics(servers, [TopicSpec(topic, 1, "bench")])
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=servers, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    producer = make_producer(servers, client_id="bench")
    await producer.start()
    latencies: list[float] = []
    try:
        for _ in range(count):
            sent = time.perf_counter()
            await producer.send_and_wait(topic, b"x" * 300)
            while True:
                batch = await consumer.getmany(timeout_ms=1000, max_records=1)
                if batch:
                    break
            latencies.append(time.perf_counter() - sent)
    finally:
        await producer.stop()
        await consumer.stop()
    return latencies


# case id, referral id, attempt, the delivery's id (`webhook-id`), monotonic arrival time
Arrival = tuple[str, str, int, str, float]


def _receive(port_out: "multiprocessing.Queue[int]", arrivals_out: "multiprocessing.Queue[Arrival]") -> None:
    """The partner's endpoint, in a process of its own so it does not compete with the load."""

    class Handler(BaseHTTPRequestHandler):
        # Keeps the connection open between webhooks, as a partner's web server does; HTTP/1.0
        # made notify connect anew for every one.
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            now = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            offer = json.loads(body)
            arrivals_out.put(
                (
                    offer.get("case_id", ""),
                    offer.get("referral_id", ""),
                    offer.get("attempt", 0),
                    self.headers.get("webhook-id", ""),
                    now,
                )
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


class Arrivals:
    def __init__(self) -> None:
        self.by_case: dict[str, list[float]] = {}
        self.offers: set[tuple[str, int]] = set()
        self.per_offer: dict[tuple[str, int], set[str]] = {}  # delivery ids of each (referral, attempt)
        self.posts = 0  # every POST received, repeats of one delivery included
        self._ports: multiprocessing.Queue[int] = multiprocessing.Queue()
        self._queue: multiprocessing.Queue[Arrival] = multiprocessing.Queue()
        self._process = multiprocessing.Process(target=_receive, args=(self._ports, self._queue), daemon=True)

    def start(self) -> str:
        self._process.start()
        return f"http://127.0.0.1:{self._ports.get(timeout=10)}"

    def drain(self) -> None:
        while True:
            try:
                case, referral, attempt, delivery, at = self._queue.get_nowait()
            except queue.Empty:
                return
            self.by_case.setdefault(case, []).append(at)
            self.offers.add((referral, attempt))
            self.per_offer.setdefault((referral, attempt), set()).add(delivery)
            self.posts += 1

    def stop(self) -> None:
        self._process.terminate()


def unclaimed_municipality(directory: str, headers: dict[str, str]) -> str:
    """A real municipality of 沖縄県 that no active organisation covers by name, so that the bench's
    own partner (capable of anything, open round the clock) is the first choice there.
    Organisations left behind by tests against the same stack would otherwise win the match and
    never answer."""
    okinawa = sorted(m.code for m in register().municipalities.values() if m.prefecture_code == "47")
    for code in okinawa:
        found = httpx.get(
            f"{directory}/v1/organisations",
            headers=headers,
            params={"municipality_code": code, "active": "true", "limit": 500},
            timeout=10,
        )
        found.raise_for_status()
        if not any(code in org["coverage"] for org in found.json()):
            return code
    raise SystemExit("every municipality of 沖縄県 is covered: restart with a clean stack")


def register_partner(directory: str, operator: dict[str, str], receiver_url: str) -> tuple[str, str]:
    """The bench's own partner — capable of anything, open round the clock, alone in a municipality
    — posting its offers to `receiver_url`; its id and the municipality's code."""
    org = str(uuid.uuid4())
    code = unclaimed_municipality(directory, operator)
    httpx.put(
        f"{directory}/v1/organisations/{org}",
        headers=operator,
        json={
            "name": f"ベンチ用団体 {org[:8]}",
            "org_type": "NPO",
            "coverage": [code],
            "topics": ["LONELY"],
            "webhook_url": f"{receiver_url}/hooks/{org}",
            "capabilities": ["INTERVIEW", "ACCOMPANY", "OUTREACH", "MEDICAL_LINK"],
            "schedules": [{"byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "00:00", "closes_at": "24:00"}],
        },
    ).raise_for_status()
    return org, code


def consultation(code: str, severity: str) -> dict[str, Any]:
    return {
        "channel": "phone",
        "topic": "LONELY",
        "municipality_code": code,
        "severity": severity,
        "lawful_basis": "CONSENT",
        "summary": "(bench) 負荷試験の相談",
        "contact": {"name": "ベンチ 太郎", "phone": "090-0000-0000"},
    }


async def throughput(client: httpx.AsyncClient, code: str, seconds: float, concurrency: int) -> float:
    accepted = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal accepted
        while time.perf_counter() < deadline:
            response = await client.post("/v1/consultations", json=consultation(code, "S1"))
            if response.status_code == 201:
                accepted += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return accepted / (time.perf_counter() - started)


async def post_retrying(client: httpx.AsyncClient, url: str, **options: Any) -> httpx.Response:
    """POST, tried again up to twice on a transport error: a keep-alive connection the server
    closed as the request went out is no refusal (the requests are idempotent)."""
    for _ in range(2):
        with contextlib.suppress(httpx.TransportError):
            return await client.post(url, **options)
    return await client.post(url, **options)


async def handoffs(
    client: httpx.AsyncClient, code: str, rate: float, seconds: float, arrivals: Arrivals
) -> tuple[list[float], int, int, int]:
    posted: dict[str, float] = {}
    total = int(rate * seconds)
    start = time.perf_counter()

    run = uuid.uuid4().hex[:8]

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))  # open loop
        sent = time.monotonic()
        body = consultation(code, "S3")
        # Retried with the same key, as the counsellor's console does.
        response = await post_retrying(
            client, "/v1/consultations", json=body, headers={"Idempotency-Key": f"bench-{run}-{i}"}
        )
        if response.status_code in (200, 201):
            posted[response.json()["case_id"]] = sent

    await asyncio.gather(*(one(i) for i in range(total)))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        arrivals.drain()
        if all(c in arrivals.by_case for c in posted):
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)
    arrivals.drain()
    latencies = [arrivals.by_case[c][0] - t for c, t in posted.items() if c in arrivals.by_case]
    lost = sum(1 for c in posted if c not in arrivals.by_case)
    duplicated = sum(1 for c in posted if len(arrivals.by_case.get(c, [])) > 1)
    return latencies, len(posted), lost, duplicated


async def acknowledge_all(referral_url: str, token: str, offers: set[tuple[str, int]]) -> int:
    """Accept `offers` as the bench's partner; how many were accepted."""
    gate = asyncio.Semaphore(8)
    done = 0
    async with httpx.AsyncClient(
        base_url=referral_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:

        async def one(referral: str, attempt: int) -> None:
            nonlocal done
            async with gate:
                response = await post_retrying(
                    client, f"/v1/referrals/{referral}/attempts/{attempt}/acknowledge"
                )
                done += response.status_code == 200

        await asyncio.gather(*(one(referral, attempt) for referral, attempt in sorted(offers)))
    return done


class Partner:
    """The bench's partner, acknowledging what it was offered after each run, as a partner does:
    an offer left open expires at its deadline and escalates, loading the machine during a later
    run (a --find-max step minutes on)."""

    def __init__(self, referral_url: str, token: str) -> None:
        self._referral_url = referral_url
        self._token = token
        self._done: set[tuple[str, int]] = set()
        self.acknowledged = 0

    async def acknowledge_new(self, arrivals: Arrivals) -> None:
        arrivals.drain()
        new = arrivals.offers - self._done
        self._done |= new
        self.acknowledged += await acknowledge_all(self._referral_url, self._token, new)


async def measured_run(
    client: httpx.AsyncClient,
    code: str,
    rate: float,
    seconds: float,
    arrivals: Arrivals,
    meters: Meters,
) -> tuple[list[float], int, int, int, Costs]:
    """One open-loop run with what it cost (`Costs`)."""
    (latencies, sent, lost, duplicated), costs = await costs_of(
        meters, int(rate * seconds), handoffs(client, code, rate, seconds, arrivals)
    )
    return latencies, sent, lost, duplicated, costs


async def find_max(
    client: httpx.AsyncClient,
    code: str,
    seconds: float,
    arrivals: Arrivals,
    meters: Meters,
    partner: Partner,
) -> float:
    """Raise the rate until p99 passes 1 s or a case is lost; the highest rate held."""
    held = 0.0
    for rate in (20, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 200):
        latencies, _, lost, _, costs = await measured_run(client, code, rate, seconds, arrivals, meters)
        p50 = quantile(latencies, 0.5) if latencies else float("inf")
        p99 = quantile(latencies, 0.99) if latencies else float("inf")
        print(
            f"  {rate:5.0f}/s: p50 {p50 * 1000:7.1f} ms, p99 {p99 * 1000:8.1f} ms, "
            f"lost {lost}, CPU {sum(costs.cpu.values()):5.1f} ms/case",
            flush=True,
        )
        if p99 > 1.0 or lost:
            break
        held = rate
        await partner.acknowledge_new(arrivals)
        await asyncio.sleep(5.0)  # let the pipeline drain before the next step
    return held


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=50.0, help="serious cases per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the handoff run")
    parser.add_argument("--concurrency", type=int, default=16, help="throughput run's clients")
    parser.add_argument("--baseline-count", type=int, default=500)
    parser.add_argument("--chain-count", type=int, default=200, help="4-hop chain round trips")
    parser.add_argument("--find-max", action="store_true", help="raise the rate until p99 > 1 s")
    parser.add_argument("--no-throughput", action="store_true", help="skip the throughput burst")
    parser.add_argument(
        "--warmup",
        type=float,
        default=30.0,
        help="seconds of handoffs at 10/s before measuring, not counted (0: none); a freshly "
        "started broker and services are several times slower until their code is warm",
    )
    args = parser.parse_args()

    stack = Stack()
    servers = f"127.0.0.1:{stack.ports['kafka']}"
    operator = {"Authorization": f"Bearer {stack.mint_token('operator', 'bench')}"}
    counsellor = {"Authorization": f"Bearer {stack.mint_token('counsellor', 'bench')}"}
    for name in SERVICES:
        if httpx.get(f"{stack.service_url(name)}/readyz", timeout=3).status_code != 200:
            print(f"{name} is not ready: run `make up` first", file=sys.stderr)
            return 2
    meters = Meters(components(stack), stack.admin_database_url())

    directory = stack.service_url("directory")
    arrivals = Arrivals()
    receiver_url = arrivals.start()
    org, code = register_partner(directory, operator, receiver_url)
    partner = Partner(stack.service_url("referral"), stack.mint_token("partner", "bench-partner", org))
    per_second = 0.0
    highest = None
    try:
        httpx.post(
            f"{stack.service_url('notify')}/v1/partners/{org}/webhook-secret", headers=operator
        ).raise_for_status()

        async with httpx.AsyncClient(
            base_url=stack.service_url("intake"),
            headers=counsellor,
            timeout=30,
            limits=httpx.Limits(max_connections=64),
        ) as client:
            if args.warmup > 0:
                print(f"[bench] warm-up: 10/s for {args.warmup:.0f} s (not counted)", file=sys.stderr)
                await handoffs(client, code, 10.0, args.warmup, arrivals)
                await partner.acknowledge_new(arrivals)
            print(f"[bench] baseline: {args.baseline_count} produce→consume round trips", file=sys.stderr)
            base = await baseline(servers, args.baseline_count)
            print(f"[bench] baseline: {args.chain_count} trips through a bare 4-hop chain", file=sys.stderr)
            chain = four_hop_chain(servers, args.chain_count)
            # Latency first, on an idle pipeline; the throughput burst leaves a backlog behind it.
            print(f"[bench] handoffs: {args.rate:.0f}/s for {args.seconds:.0f} s", file=sys.stderr)
            latencies, sent, lost, duplicated, costs = await measured_run(
                client, code, args.rate, args.seconds, arrivals, meters
            )
            rss = rss_snapshot(meters.parts)
            await partner.acknowledge_new(arrivals)
            if args.find_max:
                print("[bench] finding the highest rate held with p99 under 1 s", file=sys.stderr)
                await asyncio.sleep(5.0)
                highest = await find_max(client, code, args.seconds, arrivals, meters, partner)
            if not args.no_throughput:
                print(f"[bench] throughput: {args.concurrency} clients for 10 s", file=sys.stderr)
                per_second = await throughput(client, code, 10.0, args.concurrency)
        print("[bench] acknowledging the rest of the handoffs as the partner", file=sys.stderr)
        await partner.acknowledge_new(arrivals)
        acknowledged = partner.acknowledged
    finally:
        # Left behind, it would keep receiving (and failing) escalations of later runs.
        httpx.delete(f"{directory}/v1/organisations/{org}", headers=operator)
        arrivals.stop()

    print()
    print("Tsunagu handoff benchmark (everything on this machine)")
    print(f"  baseline Kafka produce→consume : {percentiles(base)}")
    print(f"  baseline bare 4-hop chain      : {percentiles(chain)}")
    print(f"  POST → webhook at {args.rate:.0f}/s       : {percentiles(latencies)}")
    print(f"  cases sent {sent}, lost {lost}, duplicated {duplicated}; acknowledged {acknowledged}")
    if chain and latencies:
        p50 = statistics.median(latencies) / statistics.median(chain)
        p99 = quantile(latencies, 0.99) / quantile(chain, 0.99)
        print(f"  handoff / 4-hop chain          : p50 {p50:5.1f}x, p99 {p99:5.1f}x")
    print_costs(costs, rss)
    if per_second:
        print(
            f"  intake accepted                : {per_second:7.1f} consultations/s ({args.concurrency} clients)"
        )
    if highest is not None:
        print(f"  highest rate held (p99 < 1 s)  : {highest:.0f} serious cases/s")
    return 0 if lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
