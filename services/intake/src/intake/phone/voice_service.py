"""phone's use cases for the provider: a call through the voice menu, answered in TwiML.

A call is one leg: the provider posts the incoming call (we answer with the menu), the digit (we
answer with the desk's number or the fallback), the dial's outcome (a busy desk falls back) and
the call's end. Each step is one transaction on the leg's row, locked; a replayed step finds its
effect already there and gets the same answer again.
"""

import uuid
from dataclasses import replace
from datetime import datetime

import asyncpg

from intake import sealing
from intake.phone import repository, twiml
from intake.phone.domain import (
    INVALID_DIGIT,
    MAX_PROMPTS,
    TERMINAL_CALL_STATES,
    UNANSWERED,
    CallEvent,
    Route,
    RouteKind,
    RouteReason,
    VoiceMenu,
    announcement,
)
from intake.phone.repository import StoredCallLeg
from intake.sealing import Sealer

VOICE_PATH = "/v1/channels/phone/voice"
DIAL_PATH = "/v1/channels/phone/voice/dial-status"
FALLBACK_DIAL_PATH = f"{DIAL_PATH}?to=fallback"
SILENCE_PATH = f"{VOICE_PATH}?silence=1"


def _connect(route: Route) -> str:
    action = DIAL_PATH if route.kind is RouteKind.DESK else FALLBACK_DIAL_PATH
    return twiml.connect(announcement(route), route.number, action=action)


def _routed(leg: StoredCallLeg, route: Route, digit: str | None, now: datetime) -> StoredCallLeg:
    option = route.option
    desk = option.desk if option is not None and route.kind is RouteKind.DESK else None
    return replace(
        leg,
        digit=digit,
        topic=option.topic.value if option else None,
        chosen_at=now,
        desk_organisation_id=desk.organisation_id if desk else None,
        routed_to=route.kind.value,
        route_reason=route.reason.value,
    )


def _route_again(leg: StoredCallLeg, menu: VoiceMenu | None, fallback: str) -> Route:
    """The route a leg already took, for a replayed or retried request."""
    option = menu.option(leg.digit) if menu and leg.digit else None
    reason = RouteReason(leg.route_reason or RouteReason.NO_CHOICE.value)
    if leg.routed_to == RouteKind.DESK.value and option is not None and option.desk is not None:
        return Route(RouteKind.DESK, option.desk.number, reason, option)
    return Route(RouteKind.FALLBACK, menu.fallback_number if menu else fallback, reason, option)


async def _menu_of(conn: asyncpg.Connection, leg: StoredCallLeg) -> VoiceMenu | None:
    return await repository.get_menu(conn, menu_id=leg.menu_id) if leg.menu_id else None


async def answer_call(
    pool: asyncpg.Pool, sealer: Sealer, *, call: CallEvent, now: datetime, fallback_number: str
) -> str:
    """TwiML for an incoming call, a digit, or silence after the menu."""
    async with pool.acquire() as conn, conn.transaction():
        leg = await repository.get_call_leg(conn, call_sid=call.call_sid, for_update=True)
        if leg is None:
            leg = await _open_leg(conn, sealer, call, now)
        menu = await _menu_of(conn, leg)
        if leg.routed_to is not None:
            return _connect(_route_again(leg, menu, fallback_number))
        if menu is None:
            route = Route(RouteKind.FALLBACK, fallback_number, RouteReason.NO_MENU, None)
            await repository.update_call_leg(conn, leg=_routed(leg, route, call.digits, now))
            return _connect(route)
        if call.digits or call.silence:
            option = menu.option(call.digits) if call.digits else None
            if option is None and leg.prompts < MAX_PROMPTS:
                await repository.update_call_leg(conn, leg=replace(leg, prompts=leg.prompts + 1))
                prefix = INVALID_DIGIT if call.digits else ""
                return twiml.menu(prefix + menu.prompt(), action=VOICE_PATH, on_silence=SILENCE_PATH)
            route = menu.route(call.digits if option else None, now)
            await repository.update_call_leg(conn, leg=_routed(leg, route, call.digits, now))
            return _connect(route)
        return twiml.menu(menu.prompt(), action=VOICE_PATH, on_silence=SILENCE_PATH)


async def _open_leg(
    conn: asyncpg.Connection, sealer: Sealer, call: CallEvent, now: datetime
) -> StoredCallLeg:
    active = await repository.active_menu(conn)
    leg_id = uuid.uuid4()
    leg = StoredCallLeg(
        id=leg_id,
        call_sid=call.call_sid,
        caller_enc=sealer.seal(sealing.CALLER, leg_id, call.caller),
        called_number=call.called,
        menu_id=active[0].id if active else None,
        started_at=now,
        prompts=1,
        digit=None,
        topic=None,
        chosen_at=None,
        desk_organisation_id=None,
        routed_to=None,
        route_reason=None,
        dial_status=None,
        dial_duration_s=None,
        ended_at=None,
        consultation_id=None,
        completed_by=None,
        completed_at=None,
        purged_at=None,
    )
    if not await repository.insert_call_leg(conn, leg=leg):
        # The same call posted twice at once: the other request created it.
        found = await repository.get_call_leg(conn, call_sid=call.call_sid, for_update=True)
        assert found is not None
        return found
    return leg


async def dial_finished(
    pool: asyncpg.Pool,
    *,
    call_sid: str,
    dial_status: str | None,
    duration_s: int | None,
    to_fallback: bool,
    now: datetime,
    fallback_number: str,
) -> str:
    """The outcome of a <Dial>: an unanswered desk falls back once; anything else ends the call."""
    async with pool.acquire() as conn, conn.transaction():
        leg = await repository.get_call_leg(conn, call_sid=call_sid, for_update=True)
        if leg is None:
            return twiml.empty()
        menu = await _menu_of(conn, leg)
        if not to_fallback and leg.route_reason == RouteReason.DESK_UNANSWERED.value:
            return _connect(_route_again(leg, menu, fallback_number))  # a replay of the desk's outcome
        if not to_fallback and leg.routed_to == RouteKind.DESK.value and (dial_status or "") in UNANSWERED:
            fallback = Route(
                RouteKind.FALLBACK,
                menu.fallback_number if menu else fallback_number,
                RouteReason.DESK_UNANSWERED,
                menu.option(leg.digit) if menu and leg.digit else None,
            )
            await repository.update_call_leg(
                conn,
                leg=replace(
                    leg,
                    dial_status=dial_status,
                    dial_duration_s=duration_s,
                    routed_to=RouteKind.FALLBACK.value,
                    route_reason=RouteReason.DESK_UNANSWERED.value,
                ),
            )
            return _connect(fallback)
        if leg.ended_at is None:
            await repository.update_call_leg(
                conn, leg=replace(leg, dial_status=dial_status, dial_duration_s=duration_s, ended_at=now)
            )
        return twiml.empty()


async def call_status(pool: asyncpg.Pool, *, call_sid: str, status: str | None, now: datetime) -> None:
    """The provider's status callback: a finished call ends its leg (if nothing ended it before)."""
    if (status or "") not in TERMINAL_CALL_STATES:
        return
    async with pool.acquire() as conn, conn.transaction():
        leg = await repository.get_call_leg(conn, call_sid=call_sid, for_update=True)
        if leg is not None and leg.ended_at is None:
            await repository.update_call_leg(conn, leg=replace(leg, ended_at=now))
