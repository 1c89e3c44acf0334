"""referral's gauges for /metrics, read from a real database: referrals by state, offers that
expired unanswered by severity, and the time to acknowledgement."""

import asyncio
import socket
import urllib.request
import uuid
from typing import Any

import asyncpg
import pytest

from contracts.vocabulary import Severity
from eventkit.db import service_migrations
from eventkit.runtime import ServiceRuntime
from eventkit.testing import Infra
from referral.lifecycle import repository
from referral.lifecycle.service import Lifecycle
from referral.main import GAUGES, MIGRATIONS
from referral.scheduler import DeadlineScheduler

from ..builders import runtime_settings


async def test_the_gauges_count_referrals_by_state_and_expired_offers_by_severity(
    pool: asyncpg.Pool, lifecycle: Lifecycle, clock: Any, seed: Any
) -> None:
    await seed(pool, offered_to=(uuid.uuid4(), uuid.uuid4()), lifecycle=lifecycle, severity=Severity.S4)
    await seed(pool, lifecycle=lifecycle, severity=Severity.S3)
    clock.advance(hours=2)
    assert await DeadlineScheduler(pool=pool, lifecycle=lifecycle, poll_interval_s=0.05).run_once() == 1

    assert dict(await repository.count_by_state(pool)) == {"offered": 1.0, "requested": 1.0}
    assert dict(await repository.count_expired_by_severity(pool)) == {"S4": 1.0}
    assert await repository.acknowledgement_p90_by_severity(pool) == []
    assert {gauge.name for gauge in GAUGES} == {
        "tsunagu_handoffs",
        "tsunagu_handoff_attempts_expired",
        "tsunagu_handoff_acknowledgement_p90_seconds",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return str(reply.read().decode())


async def test_the_runtime_serves_its_gauges_on_the_internal_metrics_port_only_when_one_is_set(
    service_db: str, infra: Infra, pool: asyncpg.Pool, lifecycle: Lifecycle, seed: Any
) -> None:
    await seed(pool, lifecycle=lifecycle, severity=Severity.S4)
    port = _free_port()
    settings = runtime_settings(infra, service_db, metrics_port=port)
    # No consumer: it would join referral's real group on the shared broker.
    runtime = ServiceRuntime(
        name="referral",
        settings=settings,
        migrations=service_migrations("referral", MIGRATIONS),
        state_counts=GAUGES,
    )
    await runtime.start()
    try:
        for _ in range(50):
            text = await asyncio.to_thread(_scrape, port)
            if 'tsunagu_handoffs{service="referral",state="requested"} 1.0' in text:
                break
            await asyncio.sleep(0.1)
    finally:
        await runtime.stop()
    assert 'tsunagu_handoffs{service="referral",state="requested"} 1.0' in text
    assert 'tsunagu_outbox_backlog{service="referral"} 0.0' in text
    with pytest.raises(OSError):
        await asyncio.to_thread(_scrape, port)  # closed with the runtime
