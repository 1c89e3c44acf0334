"""notify's whole event table: the partners' alerts (offers and their fate) and on-call paging
(operator alerts open pages; a referral that settles resolves its page). main.py builds it with
the paging policy and pager from the settings; `HANDLERS` is the same table with the defaults,
for the wiring check. Where both sub-domains read one event, each acts in the same transaction."""

from datetime import timedelta

import asyncpg

from contracts.events import (
    Event,
    HandoffAcknowledged,
    OperatorAlertRaised,
    ReferralHandledElsewhere,
    ReferralWithdrawn,
)
from eventkit.clock import Clock, system_clock
from eventkit.consumer import Handler, Message
from notify.alerts.handlers import HANDLERS as ALERT_HANDLERS
from notify.paging.domain import PagingPolicy
from notify.paging.handlers import Settled, on_operator_alert, on_referral_settled
from notify.paging.service import Pager


def build_handlers(
    policy: PagingPolicy, pager: Pager, clock: Clock = system_clock
) -> dict[type[Event], Handler]:
    settle = on_referral_settled(pager)

    def both(alerts: Handler | None) -> Handler:
        async def handle(conn: asyncpg.Connection, event: Settled, message: Message) -> None:
            if alerts is not None:
                await alerts(conn, event, message)
            await settle(conn, event, clock())

        return handle

    return {
        **ALERT_HANDLERS,
        OperatorAlertRaised: on_operator_alert(policy, clock),
        HandoffAcknowledged: both(ALERT_HANDLERS.get(HandoffAcknowledged)),
        ReferralWithdrawn: both(ALERT_HANDLERS.get(ReferralWithdrawn)),
        ReferralHandledElsewhere: both(ALERT_HANDLERS.get(ReferralHandledElsewhere)),
    }


HANDLERS: dict[type[Event], Handler] = build_handlers(
    PagingPolicy(repeat=timedelta(minutes=5), max_alert_age=timedelta(hours=6)),
    Pager(webhook=False, dashboard_url="http://127.0.0.1:8100/ops/paging"),
)
