"""directory's event edge: a referral request in, a match (or the lack of one) out via the outbox."""

import asyncpg

from contracts.events import Event, ReferralRequested
from directory import service
from eventkit import telemetry
from eventkit.consumer import Handler, Message


async def on_referral_requested(conn: asyncpg.Connection, event: ReferralRequested, message: Message) -> None:
    telemetry.tag(case_id=event.case_id, referral_id=event.referral_id)
    await service.match_referral(conn, event)


HANDLERS: dict[type[Event], Handler] = {ReferralRequested: on_referral_requested}
