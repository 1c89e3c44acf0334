"""notify's gauges for /metrics, read from a real database: deliveries by outcome and the
webhook POSTs of the last five minutes by outcome (the alert on the failure rate divides them)."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from notify.deliveries import repository
from notify.deliveries.domain import Channel, NewDelivery
from notify.main import GAUGES


def _delivery(n: int) -> NewDelivery:
    referral = uuid.uuid4()
    org = uuid.uuid4()
    return NewDelivery(
        id=uuid.uuid4(),
        delivery_id=f"{referral}:{org}:{n}",
        referral_id=referral,
        case_id=uuid.uuid4(),
        organisation_id=org,
        attempt=1,
        channel=Channel.WEBHOOK,
        webhook_url="https://partner.invalid/hook",
        email_to=None,
        payload={},
        trace_headers={},
    )


async def test_the_gauges_count_deliveries_by_outcome_and_recent_webhook_tries_ok_and_failed(
    pool: asyncpg.Pool,
) -> None:
    assert dict(await repository.count_recent_tries_by_outcome(pool)) == {"ok": 0.0, "failed": 0.0}
    now = datetime.now(UTC)
    deliveries = [_delivery(n) for n in range(3)]
    async with pool.acquire() as conn:
        await conn.execute(repository.insert_sql(1), *repository.insert_args(deliveries))
        await conn.execute("UPDATE deliveries SET status = 'delivered' WHERE id = $1", deliveries[0].id)
        tries = [
            (200, None, now),
            (503, "http_503", now),
            (None, "timeout", now),
            (200, None, now - timedelta(hours=1)),
        ]
        for n, (status, error, at) in enumerate(tries, start=1):
            await repository.record_attempt(
                conn,
                delivery_uuid=deliveries[0].id,
                try_no=n,
                at=at,
                http_status=status,
                error=error,
                duration_ms=5,
            )

    assert dict(await repository.count_by_status(pool)) == {"delivered": 1.0, "pending": 2.0}
    assert dict(await repository.count_recent_tries_by_outcome(pool)) == {"ok": 1.0, "failed": 2.0}
    assert {gauge.name for gauge in GAUGES} == {"tsunagu_deliveries", "tsunagu_webhook_tries_5m"}
