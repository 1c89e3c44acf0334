"""Finishing a delivery try, in one transaction: the try's row, the delivery's new state and, when
the delivery ends, the event announcing it — `handoff.notified`, or `handoff.delivery_failed` once
every channel of the attempt has failed (decided under a lock on the attempt's alert)."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import asyncpg

from contracts.events import HandoffDeliveryFailed, HandoffNotified
from eventkit import outbox
from notify.alerts import repository as alerts
from notify.alerts.domain import AlertState
from notify.deliveries import repository
from notify.deliveries.domain import Delivery, DeliveryStatus, RetryPolicy, after_failure, failure_reason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TryResult:
    """One POST (or the reason none was possible). Status codes and error types only."""

    at: datetime
    duration_ms: int
    http_status: int | None = None
    reason: str | None = None  # None: the partner answered 2xx

    @property
    def delivered(self) -> bool:
        return self.reason is None


Report = TypeVar("Report", HandoffNotified, HandoffDeliveryFailed)


def _report(event: type[Report], delivery: Delivery, **ending: Any) -> Report:
    """The event announcing how `delivery` ended: the attempt and delivery it is about, and `ending`.
    Named one by one: a delivery also holds its payload and addresses, which no event may carry."""
    return event(
        case_id=delivery.case_id,
        referral_id=delivery.referral_id,
        organisation_id=delivery.organisation_id,
        attempt=delivery.attempt,
        delivery_id=delivery.delivery_id,
        **ending,
    )


async def finish_try(
    pool: asyncpg.Pool,
    delivery: Delivery,
    result: TryResult,
    *,
    policy: RetryPolicy,
    rand: Callable[[], float],
    now: datetime | None,
) -> DeliveryStatus | None:
    """Record the try and move the delivery on; None if another sender had taken it over."""
    if result.reason is None:
        return await _delivered(pool, delivery, result, now=now)
    async with pool.acquire() as conn, conn.transaction():
        await repository.record_attempt(
            conn,
            delivery_uuid=delivery.id,
            try_no=delivery.tries,
            at=result.at,
            http_status=result.http_status,
            error=result.reason,
            duration_ms=result.duration_ms,
        )
        step = after_failure(result.reason, tries=delivery.tries, policy=policy, rand=rand)
        if not step.give_up:
            retried = await repository.schedule_retry(
                conn,
                delivery_uuid=delivery.id,
                tries=delivery.tries,
                reason=result.reason,
                delay_s=step.delay_s,
                now=now,
            )
            if not retried:
                return None
            log.warning(
                "delivery %s try %d failed (%s); retrying in %.1fs",
                delivery.delivery_id,
                delivery.tries,
                result.reason,
                step.delay_s,
            )
            return DeliveryStatus.PENDING
        # Lock the attempt's alert before the delivery row: its channels finish in parallel, and
        # the last one to fail must see the others' outcomes (same lock order as the handlers).
        alert = await alerts.lock_alert(
            conn,
            referral_id=delivery.referral_id,
            organisation_id=delivery.organisation_id,
            attempt=delivery.attempt,
        )
        failed_at = await repository.mark_failed(
            conn, delivery_uuid=delivery.id, tries=delivery.tries, reason=result.reason, now=now
        )
        if failed_at is None:
            return None
        log.error(
            "delivery %s failed for good after %d tries (%s)",
            delivery.delivery_id,
            delivery.tries,
            result.reason,
        )
        reason: str = result.reason
        if alert is not None:
            outcomes = await repository.channel_outcomes(
                conn,
                referral_id=delivery.referral_id,
                organisation_id=delivery.organisation_id,
                attempt=delivery.attempt,
            )
            # The referral moves on only when no channel reached the partner and none still tries.
            if alert.state != AlertState.OFFERED or any(
                status != DeliveryStatus.FAILED for _, status, _ in outcomes
            ):
                return DeliveryStatus.FAILED
            if not await alerts.mark_alert_delivery_failed(conn, alert_id=alert.id, now=now):
                return DeliveryStatus.FAILED
            reason = failure_reason([(channel, error) for channel, _, error in outcomes])
        await outbox.append(
            conn, _report(HandoffDeliveryFailed, delivery, reason=reason, failed_at=failed_at)
        )
        return DeliveryStatus.FAILED


async def _delivered(
    pool: asyncpg.Pool, delivery: Delivery, result: TryResult, *, now: datetime | None
) -> DeliveryStatus | None:
    """The partner took it: one statement, committed as it returns, whose handoff.notified this
    process then publishes (a transaction had cost four more round trips). Delivered when the
    partner's answer came, by this process's clock unless a test fixes `now`."""
    delivered_at = now or result.at + timedelta(milliseconds=result.duration_ms)
    notified = _report(HandoffNotified, delivery, channel=delivery.channel, notified_at=delivered_at)
    async with pool.acquire() as conn:
        if not await repository.record_delivered(
            conn,
            delivery_uuid=delivery.id,
            try_no=delivery.tries,
            at=result.at,
            http_status=result.http_status,
            duration_ms=result.duration_ms,
            delivered_at=delivered_at,
            events=outbox.rows_of(conn, [notified]),
        ):
            return None
    log.info("delivery %s delivered on try %d", delivery.delivery_id, delivery.tries)
    return DeliveryStatus.DELIVERED
