"""Faults under load: a stream of serious cases while every part of the system fails in turn.

    make up && .venv/bin/python bench/faults.py [--cases 10000] [--rate 20]

Posts `--cases` serious consultations at `--rate` per second (open loop; a POST that fails because
intake is down is retried with the same Idempotency-Key, as the counsellor's console does) to a
partner of the bench's own, which acknowledges each offer as it arrives. Spread over the run, in
turn: each service is killed with SIGKILL and started again, the broker is killed and started
again, and PostgreSQL is restarted. Prints, at the end:

- cases posted, alerted (a signed webhook reached the partner), lost, duplicated (a second
  delivery, with another id, of the same handoff attempt), and webhook POSTs repeated with the same
  delivery id (a partner deduplicates those on `webhook-id`);
- for each fault, its recovery: from the fault until every case posted before the failed part
  was back had reached the partner; and the longest.

Exit status 0 only when nothing was lost or duplicated. Everything runs on this machine.
"""

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))
from handoff_latency import SERVICES, Arrivals, consultation, register_partner
from tsunagu_stack import Stack

RESTART_PAUSE_S = 2.0  # how long a killed part stays down before it is started again


@dataclass
class Fault:
    name: str
    at: float = 0.0  # monotonic time of the fault
    back: float = 0.0  # monotonic time the part answered again
    recovery: float | None = None


@dataclass
class Run:
    posted: dict[str, float] = field(default_factory=dict)  # case id → first attempt (monotonic)
    retried: int = 0
    acknowledged: set[tuple[str, int]] = field(default_factory=set)


async def post_all(client: httpx.AsyncClient, run: Run, code: str, cases: int, rate: float, tag: str) -> None:
    start = time.perf_counter()
    gate = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        first = time.monotonic()
        async with gate:
            while True:
                try:
                    response = await client.post(
                        "/v1/consultations",
                        json=consultation(code, "S3"),
                        headers={"Idempotency-Key": f"faults-{tag}-{i}"},
                    )
                    if response.status_code in (200, 201):
                        run.posted[response.json()["case_id"]] = first
                        return
                except httpx.HTTPError:
                    pass
                run.retried += 1
                await asyncio.sleep(0.5)

    await asyncio.gather(*(one(i) for i in range(cases)))


async def acknowledge_as_they_come(
    referral_url: str, token: str, arrivals: Arrivals, run: Run, stop: asyncio.Event
) -> None:
    """The partner answers each offer promptly; one left open would expire and escalate."""
    async with httpx.AsyncClient(
        base_url=referral_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        while not stop.is_set():
            arrivals.drain()
            for referral, attempt in sorted(arrivals.offers - run.acknowledged):
                try:
                    response = await client.post(f"/v1/referrals/{referral}/attempts/{attempt}/acknowledge")
                except httpx.HTTPError:
                    break  # referral or the database is down: try again on the next round
                if response.status_code in (200, 409):
                    run.acknowledged.add((referral, attempt))
            await asyncio.sleep(0.5)


def inflict(stack: Stack, fault: Fault) -> None:
    """Break one part and bring it back (blocking: run in a thread)."""
    fault.at = time.monotonic()
    if fault.name in SERVICES:
        stack.kill_service(fault.name)
        time.sleep(RESTART_PAUSE_S)
        stack.start_service(fault.name)
    elif fault.name == "kafka":
        stack.kill_service("kafka")
        time.sleep(RESTART_PAUSE_S)
        stack.ensure_infra()
    else:  # postgresql: a clean restart, as an operator's maintenance would do
        stack.postgres.stop()
        stack.ensure_infra()
    fault.back = time.monotonic()
    print(f"[faults] {fault.name}: back after {fault.back - fault.at:.1f} s", file=sys.stderr, flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10_000, help="serious cases to post")
    parser.add_argument("--rate", type=float, default=20.0, help="serious cases per second")
    parser.add_argument(
        "--faults",
        default=",".join((*SERVICES, "kafka", "postgresql")),
        help="the parts to break, in order (comma-separated; default: all of them)",
    )
    parser.add_argument("--drain", type=float, default=300.0, help="seconds to wait for the last alerts")
    args = parser.parse_args()

    stack = Stack()
    for name in SERVICES:
        if httpx.get(f"{stack.service_url(name)}/readyz", timeout=3).status_code != 200:
            print(f"{name} is not ready: run `make up` first", file=sys.stderr)
            return 2
    operator = {"Authorization": f"Bearer {stack.mint_token('operator', 'bench-faults')}"}
    counsellor = {"Authorization": f"Bearer {stack.mint_token('counsellor', 'bench-faults')}"}
    directory = stack.service_url("directory")
    arrivals = Arrivals()
    org, code = register_partner(directory, operator, arrivals.start())
    run = Run()
    faults = [Fault(name.strip()) for name in args.faults.split(",") if name.strip()]
    unknown = {f.name for f in faults} - {*SERVICES, "kafka", "postgresql"}
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    duration = args.cases / args.rate
    stop = asyncio.Event()
    try:
        httpx.post(
            f"{stack.service_url('notify')}/v1/partners/{org}/webhook-secret", headers=operator
        ).raise_for_status()
        partner = stack.mint_token("partner", "bench-faults-partner", org)
        acknowledging = asyncio.create_task(
            acknowledge_as_they_come(stack.service_url("referral"), partner, arrivals, run, stop)
        )
        print(
            f"[faults] {args.cases} serious cases at {args.rate:.0f}/s ({duration:.0f} s); "
            f"faults: {', '.join(f.name for f in faults)}",
            file=sys.stderr,
        )

        async def schedule() -> None:
            for index, fault in enumerate(faults):
                await asyncio.sleep(
                    max(0.0, started + duration * (index + 1) / (len(faults) + 1) - time.monotonic())
                )
                await asyncio.to_thread(inflict, stack, fault)

        async def progress() -> None:
            while not stop.is_set():
                await asyncio.sleep(15)
                arrivals.drain()
                print(
                    f"[faults] {time.monotonic() - started:5.0f} s: posted {len(run.posted)}, "
                    f"alerted {len(arrivals.by_case)}",
                    file=sys.stderr,
                    flush=True,
                )

        started = time.monotonic()
        reporter = asyncio.create_task(progress())
        async with httpx.AsyncClient(
            base_url=stack.service_url("intake"), headers=counsellor, timeout=30
        ) as client:
            await asyncio.gather(
                post_all(client, run, code, args.cases, args.rate, uuid.uuid4().hex[:8]), schedule()
            )
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline:
            arrivals.drain()
            if all(case in arrivals.by_case for case in run.posted):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(3.0)
        arrivals.drain()
        stop.set()
        await acknowledging
        reporter.cancel()
    finally:
        stop.set()
        httpx.delete(f"{directory}/v1/organisations/{org}", headers=operator)
        arrivals.stop()

    for fault in faults:
        # Every case posted before the part was back: when had the last of them reached the partner?
        affected = [case for case, sent in run.posted.items() if sent <= fault.back]
        reached = [arrivals.by_case[case][0] for case in affected if case in arrivals.by_case]
        if reached and len(reached) == len(affected):
            fault.recovery = max(max(reached) - fault.at, fault.back - fault.at)

    lost = [case for case in run.posted if case not in arrivals.by_case]
    # A second delivery (another id) of one attempt would be a duplicate offer. A repeated POST of
    # one delivery (same `webhook-id`) is what at-least-once HTTP does when notify dies, or its
    # database goes away, between the partner's 200 and notify's commit; partners deduplicate on
    # the id, as Standard Webhooks asks.
    duplicated = sum(len(ids) - 1 for ids in arrivals.per_offer.values() if len(ids) > 1)
    repeated = arrivals.posts - sum(len(ids) for ids in arrivals.per_offer.values())
    print()
    print("Tsunagu fault benchmark (everything on this machine)")
    print(f"  cases posted {len(run.posted)} (POSTs retried while intake was down: {run.retried})")
    print(f"  alerted {len(run.posted) - len(lost)}, lost {len(lost)}, duplicated {duplicated}")
    print(f"  webhook POSTs repeated with the same delivery id (webhook-id): {repeated}")
    print(f"  offers acknowledged by the partner: {len(run.acknowledged)}")
    for fault in faults:
        recovery = f"{fault.recovery:6.1f} s" if fault.recovery is not None else "   n/a"
        print(f"  {fault.name:11s} down {fault.back - fault.at:5.1f} s, recovered in {recovery}")
    longest = max((f.recovery for f in faults if f.recovery is not None), default=None)
    if longest is not None:
        print(f"  longest recovery: {longest:.1f} s")
    return 0 if not lost and not duplicated else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
