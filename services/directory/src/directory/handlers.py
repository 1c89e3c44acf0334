"""directory's event edge: referral requests in, matches out; handoff facts adjust the register.

The handlers need the matching context (geography, policy, clock) that main.py builds from the
settings, so the table is made by `build_handlers(context)`; `HANDLERS` is the same table with
the defaults, for the wiring check and tools that only need its shape.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from contracts.events import (
    Event,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    HandoffOutcomeRecorded,
    ReferralRequested,
    ReferralWithdrawn,
)
from directory import service
from directory.service import Context
from eventkit import telemetry
from eventkit.consumer import Handler, Message


def _tagged(
    act: Callable[[asyncpg.Connection, Any], Awaitable[None]],
) -> Handler:
    async def handle(conn: asyncpg.Connection, event: Any, message: Message) -> None:
        telemetry.tag(
            case_id=event.case_id,
            referral_id=getattr(event, "referral_id", None),
            organisation_id=getattr(event, "organisation_id", None),
        )
        await act(conn, event)

    return handle


def build_handlers(context: Context) -> dict[type[Event], Handler]:
    async def on_referral_requested(conn: asyncpg.Connection, event: ReferralRequested) -> None:
        await service.match_referral(conn, event, context=context)

    return {
        ReferralRequested: _tagged(on_referral_requested),
        HandoffOffered: _tagged(service.offer_made),
        HandoffAcknowledged: _tagged(service.handoff_acknowledged),
        HandoffDeclined: _tagged(service.handoff_declined),
        HandoffExpired: _tagged(service.handoff_expired),
        HandoffOutcomeRecorded: _tagged(service.outcome_recorded),
        ReferralWithdrawn: _tagged(service.referral_withdrawn),
    }


HANDLERS: dict[type[Event], Handler] = build_handlers(Context())
