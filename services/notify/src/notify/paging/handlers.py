"""Paging's event edge: an operator alert becomes an `Alarm` when it needs a person, and the alarm
opens or joins a page; a referral that settles (accepted, withdrawn, handled elsewhere) resolves
its page. Idempotent twice over: the consumer's inbox drops a redelivered event, and
`page_alerts` drops a republished alert (same alert id, new event id)."""

from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from contracts.events import (
    HandoffAcknowledged,
    OperatorAlertRaised,
    ReferralHandledElsewhere,
    ReferralWithdrawn,
)
from eventkit.build import from_attributes
from eventkit.clock import Clock, system_clock
from eventkit.consumer import Message
from notify.paging import service
from notify.paging.domain import Alarm, PagingPolicy, page_kind

Settled = HandoffAcknowledged | ReferralWithdrawn | ReferralHandledElsewhere


def alarm_of(event: OperatorAlertRaised) -> Alarm | None:
    """The alarm an alert calls for, or None (a national fallback, an S2 nobody took)."""
    kind = page_kind(event.kind, event.severity)
    if kind is None:
        return None
    return from_attributes(Alarm, event, kind=kind, source=event.raised_by)


def on_operator_alert(
    policy: PagingPolicy, clock: Clock = system_clock
) -> Callable[[asyncpg.Connection, OperatorAlertRaised, Message], Awaitable[None]]:
    async def handle(conn: asyncpg.Connection, event: OperatorAlertRaised, message: Message) -> None:
        alarm = alarm_of(event)
        if alarm is not None:
            await service.receive_alarm(conn, alarm, now=clock(), policy=policy)

    return handle


def on_referral_settled(
    pager: service.Pager,
) -> Callable[[asyncpg.Connection, Settled, datetime], Awaitable[None]]:
    async def settle(conn: asyncpg.Connection, event: Settled, at: datetime) -> None:
        await service.settle_referral(conn, referral_id=event.referral_id, at=at, pager=pager)

    return settle
