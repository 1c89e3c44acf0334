"""Deadlines and escalation on real PostgreSQL and Kafka: the scheduler fires durable timers once,
across restarts and replicas, and the next organisation's offer (or the operators' alert) is
published to the broker. Time moves through an injected clock; nothing sleeps until a deadline."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.topics import OPS_ALERTS, REFERRALS
from contracts.vocabulary import DeclineReason
from eventkit.auth import Principal, Role
from eventkit.db import create_pool, service_migrations
from eventkit.runtime import ServiceRuntime
from eventkit.testing import Infra
from referral.lifecycle import repository, service
from referral.lifecycle.domain import HandoffPolicy, Referral
from referral.lifecycle.service import Lifecycle
from referral.main import MIGRATIONS
from referral.scheduler import DeadlineScheduler

from ..builders import runtime_settings

ORG_A, ORG_B, ORG_C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
PARTNER_A = Principal("partner-a", Role.PARTNER, ORG_A)  # the first organisation offered


# ---- the broker, read from where it stood when the test began -----------------------------------


@dataclass
class Tail:
    servers: str
    start: dict[TopicPartition, int]

    async def events(
        self,
        case_id: uuid.UUID,
        until: Callable[[list[tuple[str, dict[str, Any]]]], bool],
        timeout: float = 30,
    ) -> list[tuple[str, dict[str, Any]]]:
        """(ce_type, payload) of the case's records published since the test began."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.servers, enable_auto_commit=False)
        await consumer.start()
        found: list[tuple[str, dict[str, Any]]] = []
        try:
            consumer.assign(list(self.start))
            for partition, offset in self.start.items():
                consumer.seek(partition, offset)
            async with asyncio.timeout(timeout):
                while not until(found):
                    batches = await consumer.getmany(timeout_ms=500)
                    for records in batches.values():
                        for record in records:
                            if record.key != str(case_id).encode():
                                continue
                            headers = {k: v.decode() for k, v in record.headers or ()}
                            found.append((headers["ce_type"], json.loads(record.value or b"{}")))
        finally:
            await consumer.stop()
        return found


@pytest.fixture
async def tail(infra: Infra) -> AsyncIterator[Tail]:
    partitions = [
        TopicPartition(topic.name, p) for topic in (REFERRALS, OPS_ALERTS) for p in range(topic.partitions)
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        start = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    yield Tail(infra.kafka_bootstrap_servers, dict(start))


@pytest.fixture
async def relay(service_db: str, infra: Infra) -> AsyncIterator[None]:
    """referral's runtime with its outbox relay only: no consumer (it would join the real group on
    the shared broker) and no scheduler of its own (the tests drive one)."""
    settings = runtime_settings(infra, service_db)
    runtime = ServiceRuntime(
        name="referral", settings=settings, migrations=service_migrations("referral", MIGRATIONS)
    )
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()


def scheduler(pool: asyncpg.Pool, lifecycle: Lifecycle) -> DeadlineScheduler:
    return DeadlineScheduler(pool=pool, lifecycle=lifecycle, poll_interval_s=0.05)


def types(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [kind for kind, _ in events]


def escalation(ending: str) -> list[str]:
    """The event types of an offer that `ending` ended and that escalated to the next organisation."""
    return ["handoff.offered.v2", ending, "referral.escalated.v1", "handoff.offered.v2"]


def has(kind: str, count: int = 1) -> Callable[[list[tuple[str, dict[str, Any]]]], bool]:
    return lambda found: sum(1 for k, _ in found if k == kind) >= count


async def stored(pool: asyncpg.Pool, referral_id: uuid.UUID) -> Referral:
    """The referral as the database holds it now."""
    async with pool.acquire() as conn:
        found = await repository.get_referral(conn, referral_id=referral_id)
    assert found is not None
    return found


# ---- expiry and escalation, end to end through the broker ---------------------------------------


async def test_no_acknowledgement_before_the_deadline_expires_it_and_the_next_organisation_is_offered(
    pool: asyncpg.Pool, lifecycle: Lifecycle, clock: Any, seed: Any, relay: None, tail: Tail
) -> None:
    referral = await seed(pool, offered_to=(ORG_A, ORG_B), lifecycle=lifecycle)
    deadlines = scheduler(pool, lifecycle)

    clock.advance(minutes=29, seconds=59)
    assert await deadlines.run_once() == 0  # one second early: nothing fires
    clock.advance(seconds=1)
    assert await deadlines.run_once() == 1

    events = await tail.events(referral.case_id, until=has("handoff.offered.v2", 2))
    assert types(events) == escalation("handoff.expired.v1")
    expired, escalated, offered = (payload for _, payload in events[1:])
    assert (expired["organisation_id"], expired["attempt"]) == (str(ORG_A), 1)
    assert (escalated["cause"], escalated["from_attempt"], escalated["to_attempt"]) == ("expired", 1, 2)
    assert (offered["organisation"]["organisation_id"], offered["attempt"]) == (str(ORG_B), 2)
    assert offered["deadline_at"].startswith(str((clock.now + timedelta(minutes=30)).date()))
    after = await stored(pool, referral.id)
    assert (after.state.value, after.organisation_id, after.attempt) == (
        "offered",
        ORG_B,
        2,
    )


async def test_a_decline_offers_the_next_organisation_on_the_broker(
    pool: asyncpg.Pool, lifecycle: Lifecycle, seed: Any, relay: None, tail: Tail
) -> None:
    referral = await seed(pool, offered_to=(ORG_A, ORG_B), lifecycle=lifecycle)

    await service.decline(
        pool,
        principal=PARTNER_A,
        referral_id=referral.id,
        attempt=1,
        reason=DeclineReason.NO_CAPACITY,
        note=None,
        lifecycle=lifecycle,
    )

    events = await tail.events(referral.case_id, until=has("handoff.offered.v2", 2))
    assert types(events) == escalation("handoff.declined.v1")
    assert events[1][1]["reason"] == "no_capacity"
    assert events[3][1]["organisation"]["organisation_id"] == str(ORG_B)


async def test_when_the_last_candidate_lets_it_expire_the_operators_are_alerted(
    pool: asyncpg.Pool, lifecycle: Lifecycle, clock: Any, seed: Any, relay: None, tail: Tail
) -> None:
    referral = await seed(pool, offered_to=(ORG_A,), lifecycle=lifecycle)

    clock.advance(minutes=31)
    assert await scheduler(pool, lifecycle).run_once() == 1

    events = await tail.events(
        referral.case_id,
        until=lambda found: has("operator.alert_raised.v1")(found) and has("referral.exhausted.v1")(found),
    )
    # Kafka orders a case's records within one topic; the alert travels on ops.alerts.v1, so it may
    # be read before or after the lifecycle events.
    alerts = [payload for kind, payload in events if kind == "operator.alert_raised.v1"]
    assert [kind for kind in types(events) if kind != "operator.alert_raised.v1"] == [
        "handoff.offered.v2",
        "handoff.expired.v1",
        "referral.exhausted.v1",
    ]
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["kind"], alert["referral_id"], alert["raised_by"]) == (
        "referral_exhausted",
        str(referral.id),
        "referral",
    )
    assert (await stored(pool, referral.id)).state.value == "exhausted"  # what the counsellor sees


# ---- durable timers: restarts and replicas -------------------------------------------------------


async def expired_count(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'handoff.expired.v1'")
    return count


async def timers_of(pool: asyncpg.Pool, referral_id: uuid.UUID) -> list[tuple[int, bool]]:
    """(attempt, fired) of the referral's deadline timers."""
    rows = await pool.fetch(
        "SELECT attempt, fired_at FROM handoff_timers WHERE referral_id = $1 ORDER BY attempt", referral_id
    )
    return [(row["attempt"], row["fired_at"] is not None) for row in rows]


async def test_a_scheduler_restarted_in_the_middle_of_a_deadline_still_fires_it_once(
    pool: asyncpg.Pool, service_db: str, lifecycle: Lifecycle, clock: Any, seed: Any
) -> None:
    referral = await seed(pool, offered_to=(ORG_A, ORG_B), lifecycle=lifecycle)
    before_restart = scheduler(pool, lifecycle)
    clock.advance(minutes=10)
    assert await before_restart.run_once() == 0
    before_restart.stop()  # the process goes away mid-deadline; only the database remembers

    # A replica that claimed the timer and died before committing leaves it due.
    crashed = await asyncpg.connect(service_db)
    transaction = crashed.transaction()
    await transaction.start()
    clock.advance(minutes=25)
    assert await repository.claim_due_timer(crashed, now=clock.now) is not None
    await crashed.close()  # no commit

    restarted_pool = await create_pool(service_db, min_size=1, max_size=2)
    try:
        after_restart = scheduler(restarted_pool, lifecycle)
        assert await after_restart.run_once() == 1
        assert await after_restart.run_once() == 0
        clock.advance(minutes=5)  # the new attempt's deadline has not come yet
        assert await after_restart.run_once() == 0
    finally:
        await restarted_pool.close()

    assert await expired_count(pool) == 1
    assert await timers_of(pool, referral.id) == [(1, True), (2, False)]


async def test_two_schedulers_running_at_once_never_fire_a_timer_twice(
    pool: asyncpg.Pool, service_db: str, lifecycle: Lifecycle, clock: Any, seed: Any
) -> None:
    referrals = [await seed(pool, offered_to=(ORG_A, ORG_B, ORG_C), lifecycle=lifecycle) for _ in range(24)]
    clock.advance(minutes=31)
    other_pool = await create_pool(service_db, min_size=1, max_size=4)
    try:
        replicas = [scheduler(pool, lifecycle), scheduler(other_pool, lifecycle)]
        fired = await asyncio.gather(*(replica.run_once() for replica in replicas))
        assert await replicas[0].run_once() == await replicas[1].run_once() == 0
    finally:
        await other_pool.close()

    assert sum(fired) == len(referrals)
    assert await expired_count(pool) == len(referrals)
    attempts = await pool.fetch("SELECT attempt, organisation_id FROM referrals")
    assert {(row["attempt"], row["organisation_id"]) for row in attempts} == {(2, ORG_B)}


async def test_an_acknowledgement_cancels_the_attempts_timer_so_nothing_fires_later(
    pool: asyncpg.Pool, lifecycle: Lifecycle, clock: Any, seed: Any
) -> None:
    referral = await seed(pool, offered_to=(ORG_A, ORG_B), lifecycle=lifecycle)
    await service.acknowledge(
        pool, principal=PARTNER_A, referral_id=referral.id, attempt=1, lifecycle=lifecycle
    )
    assert await timers_of(pool, referral.id) == []

    clock.advance(hours=1)
    assert await scheduler(pool, lifecycle).run_once() == 0

    assert await expired_count(pool) == 0
    assert (await stored(pool, referral.id)).state.value == "acknowledged"


async def test_a_timer_the_scheduler_holds_when_the_partner_acknowledges_fires_without_effect(
    pool: asyncpg.Pool, service_db: str, lifecycle: Lifecycle, clock: Any, seed: Any
) -> None:
    referral = await seed(pool, offered_to=(ORG_A, ORG_B), lifecycle=lifecycle)
    clock.advance(minutes=10)
    # Another replica has just claimed the timer (it locks the timer, then the referral): the
    # acknowledgement, which holds the referral, must not wait for the timer, or the two deadlock.
    holder = await asyncpg.connect(service_db)
    try:
        transaction = holder.transaction()
        await transaction.start()
        assert await repository.claim_due_timer(holder, now=clock.now + timedelta(hours=1)) is not None
        await asyncio.wait_for(
            service.acknowledge(
                pool, principal=PARTNER_A, referral_id=referral.id, attempt=1, lifecycle=lifecycle
            ),
            timeout=5,
        )
        await transaction.rollback()
    finally:
        await holder.close()
    assert await timers_of(pool, referral.id) == [(1, False)]

    clock.advance(hours=1)
    assert await scheduler(pool, lifecycle).run_once() == 1

    assert await expired_count(pool) == 0
    assert (await stored(pool, referral.id)).state.value == "acknowledged"
    assert await timers_of(pool, referral.id) == [(1, True)]


async def test_the_running_scheduler_fires_a_due_timer_by_itself_and_stops_when_asked(
    pool: asyncpg.Pool, lifecycle: Lifecycle, clock: Any, seed: Any
) -> None:
    await seed(pool, offered_to=(ORG_A, ORG_B), lifecycle=lifecycle)
    clock.advance(minutes=31)
    running = scheduler(pool, lifecycle)
    task = asyncio.create_task(running.run())
    try:
        for _ in range(100):
            if await expired_count(pool):
                break
            await asyncio.sleep(0.05)  # waiting for the background loop, not for a deadline
    finally:
        running.stop()
        await asyncio.wait_for(task, 5)
    assert await expired_count(pool) == 1


async def test_a_policy_of_one_attempt_exhausts_after_the_first_deadline(
    pool: asyncpg.Pool, clock: Any, seed: Any
) -> None:
    one = Lifecycle(HandoffPolicy(max_attempts=1), clock)
    referral = await seed(pool, offered_to=(ORG_A, ORG_B), lifecycle=one)
    clock.advance(minutes=31)
    assert await scheduler(pool, one).run_once() == 1
    assert (await stored(pool, referral.id)).state.value == "exhausted"


async def test_what_another_transaction_commits_while_the_lock_is_awaited_is_read_with_the_lock(
    pool: asyncpg.Pool, lifecycle: Lifecycle, seed: Any
) -> None:
    # The lock and the attempts come in one round trip (the lock_referral function): a change
    # committed while this transaction waited for the lock, a new attempt included, must be read.
    referral = await seed(pool, offered_to=(ORG_A, ORG_B), lifecycle=lifecycle)
    async with pool.acquire() as first, pool.acquire() as second:
        holding = first.transaction()
        await holding.start()
        assert await repository.lock_referral(first, referral_id=referral.id) is not None
        waiting_transaction = second.transaction()
        await waiting_transaction.start()
        waiting = asyncio.create_task(repository.lock_referral(second, referral_id=referral.id))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # it waits for the lock
        await first.execute(
            """UPDATE handoff_attempts SET state = 'declined', ended_at = now()
                WHERE referral_id = $1 AND attempt = 1""",
            referral.id,
        )
        await first.execute(
            """INSERT INTO handoff_attempts (referral_id, attempt, organisation_id, state, offered_at,
                                             deadline_at)
               VALUES ($1, 2, $2, 'offered', now(), now() + interval '30 minutes')""",
            referral.id,
            ORG_B,
        )
        await holding.commit()
        seen = await asyncio.wait_for(waiting, 5)
        await waiting_transaction.rollback()
    assert seen is not None
    assert [(a.number, a.state.value) for a in seen.attempts] == [(1, "declined"), (2, "offered")]
