"""The alerts' use cases: queue an offered attempt's alert, follow the attempt's fate, and show a
partner its organisation's inbox. Handlers call the first two inside the consumer's transaction."""

import logging
import uuid

import asyncpg

from eventkit import telemetry
from eventkit.auth import Principal
from eventkit.clock import Clock, system_clock
from notify.alerts import repository
from notify.alerts.domain import (
    AlertState,
    AttemptMoved,
    InboxItem,
    Offer,
    StepRecorded,
    alert_for_offer,
    is_overdue,
    may_answer,
)
from notify.deliveries import repository as deliveries
from notify.links import AckLinks

log = logging.getLogger(__name__)


async def offer_handoff(conn: asyncpg.Connection, offer: Offer) -> bool:
    """Queue the attempt's alert: the inbox item and one delivery per push channel the organisation
    wants. False if this attempt was queued before (a replay with a new event id changes nothing)."""
    alert = alert_for_offer(offer, trace_headers=telemetry.current_trace_headers())
    # The deliveries' insert wakes the senders on commit (a trigger, migrations/0006).
    if not await repository.insert_alert(conn, alert=alert, deliveries=alert.deliveries):
        return False
    log.info(
        "alert %s queued on %s",
        alert.alert_key,
        ",".join(channel.value for channel in alert.channels) or "the portal only",
    )
    return True


async def attempt_moved(conn: asyncpg.Connection, move: AttemptMoved) -> int:
    """The referral moved the attempt (or, for None, the whole referral) on: the inbox shows it, and
    alerts not yet sent are not sent any more."""
    moved = await repository.move_alerts(conn, move)
    cancelled = await deliveries.cancel_pending(conn, referral_id=move.referral_id, attempt=move.attempt)
    if moved or cancelled:
        log.info(
            "referral %s attempt %s is %s; %d unsent deliveries cancelled",
            move.referral_id,
            move.attempt if move.attempt is not None else "*",
            move.state.value,
            cancelled,
        )
    return moved


async def step_recorded(conn: asyncpg.Connection, step: StepRecorded) -> int:
    """The accepting organisation recorded 面談, 同行支援 or the close: its inbox shows the step."""
    return await repository.record_step(conn, step)


async def inbox(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    state: AlertState | None,
    referral_id: uuid.UUID | None,
    limit: int,
    links: AckLinks,
    clock: Clock = system_clock,
) -> list[InboxItem]:
    """The partner's own organisation's alerts (of one referral, if asked), newest first, with
    each channel's status, whether it is overdue by `clock`, and where it may still be answered."""
    organisation_id = principal.organisation_id
    assert organisation_id is not None  # partner tokens always name their organisation
    async with pool.acquire() as conn:
        alerts = await repository.inbox(
            conn, organisation_id=organisation_id, state=state, referral_id=referral_id, limit=limit
        )
        statuses = await deliveries.delivery_statuses(
            conn, organisation_id=organisation_id, referral_ids=[a.referral_id for a in alerts]
        )
    telemetry.tag(organisation_id=organisation_id)
    now = clock()
    return [
        InboxItem(
            alert=alert,
            channels=statuses.get((alert.referral_id, alert.attempt), {}),
            overdue=is_overdue(alert, now=now),
            actions=links.referral_api(alert.referral_id, alert.attempt) if may_answer(alert) else {},
        )
        for alert in alerts
    ]
