"""notify's use cases: alert an offered handoff, follow the attempt's fate, finish a delivery try,
issue partner secrets, read deliveries and the portal inbox.

Finishing a try is one transaction: the attempt row, the delivery's new state and, when the
delivery ends, the event announcing it.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from contracts.events import HandoffDeliveryFailed, HandoffNotified, HandoffOffered
from eventkit import outbox, telemetry
from eventkit.auth import Principal, Role
from eventkit.crypto import DecryptionError, Keyring
from eventkit.errors import not_found
from notify import domain, repository
from notify.domain import AlertState, DeliveryStatus, Reason, RetryPolicy

log = logging.getLogger(__name__)


async def offer_handoff(conn: asyncpg.Connection, event: HandoffOffered) -> bool:
    """Queue the attempt's alert: the inbox item and one delivery per push channel the organisation
    wants. False if this attempt was queued before (a replay with a new event id changes nothing)."""
    alert = domain.alert_for_offer(event, trace_headers=telemetry.current_trace_headers())
    if not await repository.insert_alert(conn, alert=alert):
        return False
    for delivery in alert.deliveries:
        await repository.insert_delivery(conn, delivery=delivery)
    if alert.deliveries:
        await repository.wake_senders(conn)
    log.info(
        "alert %s queued on %s",
        alert.alert_key,
        ",".join(channel.value for channel in alert.channels) or "the portal only",
    )
    return True


async def attempt_moved(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID,
    attempt: int | None,
    state: AlertState,
    at: datetime,
) -> int:
    """The referral moved the attempt (or, for None, the whole referral) on: the inbox shows it, and
    alerts not yet sent are not sent any more."""
    moved = await repository.move_alerts(conn, referral_id=referral_id, attempt=attempt, state=state, at=at)
    cancelled = await repository.cancel_pending(conn, referral_id=referral_id, attempt=attempt)
    if moved or cancelled:
        log.info(
            "referral %s attempt %s is %s; %d unsent deliveries cancelled",
            referral_id,
            attempt if attempt is not None else "*",
            state.value,
            cancelled,
        )
    return moved


# ---- partner secrets -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedSecret:
    organisation_id: uuid.UUID
    secret: str
    created_at: datetime
    rotated: bool


async def issue_webhook_secret(
    pool: asyncpg.Pool, keyring: Keyring, *, organisation_id: uuid.UUID, grace_s: int
) -> IssuedSecret:
    """A new signing secret for the organisation, stored encrypted and returned this once."""
    secret = domain.new_webhook_secret()
    sealed = keyring.encrypt(secret, context=str(organisation_id))
    async with pool.acquire() as conn:
        stored = await repository.store_partner_secret(
            conn, organisation_id=organisation_id, secret_enc=sealed, grace_s=grace_s
        )
    rotated = stored.rotated_at is not None
    log.info("webhook secret %s for organisation %s", "rotated" if rotated else "issued", organisation_id)
    return IssuedSecret(
        organisation_id=organisation_id,
        secret=secret,
        created_at=stored.rotated_at or stored.created_at,
        rotated=rotated,
    )


class SigningUnavailable(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


async def signing_secrets(
    pool: asyncpg.Pool, keyring: Keyring, *, organisation_id: uuid.UUID, now: datetime | None
) -> list[str]:
    """The secrets to sign with: the current one first, then the previous one during its grace."""
    async with pool.acquire() as conn:
        stored = await repository.get_partner_secrets(conn, organisation_id=organisation_id, now=now)
    if stored is None:
        raise SigningUnavailable(Reason.NO_SIGNING_SECRET)
    context = str(organisation_id)
    try:
        found = [keyring.decrypt(stored.secret_enc, context=context)]
        if stored.previous_secret_enc is not None:
            found.append(keyring.decrypt(stored.previous_secret_enc, context=context))
    except DecryptionError:
        # A key left the keyring too early: an operator must restore it or issue a new secret.
        log.error("the webhook secret of organisation %s cannot be decrypted", organisation_id)
        raise SigningUnavailable(Reason.SIGNING_SECRET_UNREADABLE) from None
    return found


# ---- delivery tries --------------------------------------------------------------------------


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


async def finish_try(
    pool: asyncpg.Pool,
    delivery: repository.Delivery,
    result: TryResult,
    *,
    policy: RetryPolicy,
    rand: Callable[[], float],
    now: datetime | None,
) -> DeliveryStatus | None:
    """Record the try and move the delivery on; None if another sender had taken it over."""
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
        if result.reason is None:
            delivered_at = await repository.mark_delivered(conn, delivery_uuid=delivery.id, now=now)
            if delivered_at is None:
                return None
            await outbox.append(
                conn,
                HandoffNotified(
                    case_id=delivery.case_id,
                    referral_id=delivery.referral_id,
                    organisation_id=delivery.organisation_id,
                    attempt=delivery.attempt,
                    delivery_id=delivery.delivery_id,
                    channel=delivery.channel,
                    notified_at=delivered_at,
                ),
            )
            log.info("delivery %s delivered on try %d", delivery.delivery_id, delivery.tries)
            return DeliveryStatus.DELIVERED
        step = domain.after_failure(result.reason, tries=delivery.tries, policy=policy, rand=rand)
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
        alert = await repository.lock_alert(
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
        reason = result.reason
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
            if not await repository.mark_alert_delivery_failed(conn, alert_id=alert.id, now=now):
                return DeliveryStatus.FAILED
            reason = domain.failure_reason([(channel, error) for channel, _, error in outcomes])
        await outbox.append(
            conn,
            HandoffDeliveryFailed(
                case_id=delivery.case_id,
                referral_id=delivery.referral_id,
                organisation_id=delivery.organisation_id,
                attempt=delivery.attempt,
                delivery_id=delivery.delivery_id,
                reason=reason,
                failed_at=failed_at,
            ),
        )
        return DeliveryStatus.FAILED


# ---- reads -----------------------------------------------------------------------------------


def _may_see(principal: Principal, organisation_id: uuid.UUID) -> bool:
    return principal.role is Role.OPERATOR or principal.is_partner_of(organisation_id)


async def get_delivery(
    pool: asyncpg.Pool, *, principal: Principal, delivery_id: str
) -> tuple[repository.Delivery, list[repository.Attempt]]:
    async with pool.acquire() as conn:
        found = await repository.get_delivery(conn, delivery_id=delivery_id)
        # Another partner's delivery is "not found", so ids cannot be probed.
        if found is None or not _may_see(principal, found.organisation_id):
            raise not_found("delivery")
        attempts = await repository.list_attempts(conn, delivery_uuid=found.id)
    telemetry.tag(case_id=found.case_id, referral_id=found.referral_id, organisation_id=found.organisation_id)
    return found, attempts


async def list_deliveries(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    referral_id: uuid.UUID | None,
    organisation_id: uuid.UUID | None,
    status: DeliveryStatus | None,
    limit: int,
) -> list[repository.Delivery]:
    if principal.role is Role.PARTNER:
        # A partner's view is its own organisation; asking for another one finds nothing.
        if organisation_id is not None and organisation_id != principal.organisation_id:
            return []
        organisation_id = principal.organisation_id
    async with pool.acquire() as conn:
        return await repository.list_deliveries(
            conn,
            referral_id=referral_id,
            organisation_id=organisation_id,
            status=status,
            limit=limit,
        )


async def inbox(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    state: AlertState | None,
    referral_id: uuid.UUID | None,
    limit: int,
) -> tuple[list[repository.Alert], dict[tuple[uuid.UUID, int], dict[str, str]]]:
    """The partner's own organisation's alerts (of one referral, if asked), newest first, with
    each channel's status."""
    organisation_id = principal.organisation_id
    assert organisation_id is not None  # partner tokens always name their organisation
    async with pool.acquire() as conn:
        alerts = await repository.inbox(
            conn, organisation_id=organisation_id, state=state, referral_id=referral_id, limit=limit
        )
        statuses = await repository.delivery_statuses(
            conn, organisation_id=organisation_id, referral_ids=[a.referral_id for a in alerts]
        )
    telemetry.tag(organisation_id=organisation_id)
    return alerts, statuses
