"""Matching's event edge: a referral request becomes a `Referral` with its needs, and is answered."""

import asyncpg

from contracts.events import ReferralRequested, ReofferRequested
from directory.context import Context
from directory.matching import service
from directory.matching.domain import Referral, ReferralNeeds
from eventkit.build import from_attributes
from eventkit.consumer import Handler, Message


def referral_of(request: ReferralRequested) -> Referral:
    return Referral(
        case_id=request.case_id,
        referral_id=request.referral_id,
        needs=from_attributes(ReferralNeeds, request),
    )


def on_referral_requested(context: Context) -> Handler:
    """The handler, bound to the matching context (geography, policy, clock) main.py builds."""

    async def handle(conn: asyncpg.Connection, event: ReferralRequested, message: Message) -> None:
        await service.match_referral(conn, referral=referral_of(event), context=context)

    return handle


def on_reoffer_requested(context: Context) -> Handler:
    """An operator's choice of organisation for a referral nobody took: confirm it or refuse it."""

    async def handle(conn: asyncpg.Connection, event: ReofferRequested, message: Message) -> None:
        await service.answer_reoffer(
            conn, request=event, needs=from_attributes(ReferralNeeds, event), context=context
        )

    return handle
