"""notify's event edge: a match means the chosen organisation must be alerted."""

import asyncpg

from contracts.events import Event, ReferralMatched
from eventkit import telemetry
from eventkit.consumer import Handler, Message
from notify import service


async def on_referral_matched(conn: asyncpg.Connection, event: ReferralMatched, message: Message) -> None:
    telemetry.tag(
        case_id=event.case_id,
        referral_id=event.referral_id,
        organisation_id=event.organisation.organisation_id,
    )
    # Idempotent by (referral, organisation, attempt) as well as by the inbox: a replayed or
    # re-published match carries a new event id but must not alert the partner twice.
    await service.offer_handoff(conn, event)


HANDLERS: dict[type[Event], Handler] = {ReferralMatched: on_referral_matched}
