"""Phone use cases: voice menus (operators), calls through them (the provider), call legs (counsellors).

A call is one leg: the provider posts the incoming call (we answer with the menu), the digit (we
answer with the desk's number or the fallback), the dial's outcome (a busy desk falls back) and
the call's end. Each step is one transaction on the leg's row, locked; a replayed step finds its
effect already there and gets the same answer again.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from contracts.vocabulary import Topic
from eventkit.auth import Principal
from eventkit.errors import ApiError, not_found
from intake import repository, sealing, twiml
from intake.menu import (
    INVALID_DIGIT,
    MenuInvalid,
    MenuOption,
    Route,
    RouteKind,
    RouteReason,
    VoiceMenu,
    announcement,
    options_from_json,
    options_to_json,
    validate_options,
)
from intake.sealing import Sealer

VOICE_PATH = "/v1/channels/phone/voice"
DIAL_PATH = "/v1/channels/phone/voice/dial-status"
FALLBACK_DIAL_PATH = f"{DIAL_PATH}?to=fallback"
SILENCE_PATH = f"{VOICE_PATH}?silence=1"
MAX_PROMPTS = 2  # the menu is read at most twice before the caller goes to the fallback
UNANSWERED = frozenset({"busy", "no-answer", "failed"})
TERMINAL_CALL_STATES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


# ---- voice menus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuDraft:
    campaign: str
    greeting: str
    fallback_number: str | None
    options: tuple[MenuOption, ...]
    starts_at: datetime | None
    ends_at: datetime | None


def menu_of(stored: repository.StoredMenu) -> VoiceMenu:
    return VoiceMenu(
        id=stored.id,
        campaign=stored.campaign,
        version=stored.version,
        greeting=stored.greeting,
        options=options_from_json(stored.options),
        fallback_number=stored.fallback_number,
        starts_at=stored.starts_at,
        ends_at=stored.ends_at,
        created_by=stored.created_by,
        created_at=stored.created_at,
    )


async def create_menu(
    pool: asyncpg.Pool, *, principal: Principal, draft: MenuDraft, default_fallback: str, now: datetime
) -> VoiceMenu:
    try:
        validate_options(draft.options)
    except MenuInvalid as error:
        raise ApiError(422, "validation_failed", f"The voice menu is invalid: {error}") from None
    if draft.starts_at and draft.ends_at and draft.ends_at <= draft.starts_at:
        raise ApiError(422, "validation_failed", "The campaign must end after it starts.")
    async with pool.acquire() as conn, conn.transaction():
        version = await repository.next_menu_version(conn, campaign=draft.campaign)
        stored = repository.StoredMenu(
            id=uuid.uuid4(),
            campaign=draft.campaign,
            version=version,
            greeting=draft.greeting,
            fallback_number=draft.fallback_number or default_fallback,
            options=options_to_json(draft.options),
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            created_by=principal.subject,
            created_at=now,
        )
        await repository.insert_menu(conn, menu=stored)
    return menu_of(stored)


async def get_menu(pool: asyncpg.Pool, *, menu_id: uuid.UUID) -> VoiceMenu:
    async with pool.acquire() as conn:
        stored = await repository.get_menu(conn, menu_id=menu_id)
    if stored is None:
        raise not_found("voice menu")
    return menu_of(stored)


async def list_menus(pool: asyncpg.Pool, *, campaign: str | None, limit: int) -> list[VoiceMenu]:
    async with pool.acquire() as conn:
        return [menu_of(m) for m in await repository.list_menus(conn, campaign=campaign, limit=limit)]


async def activate_menu(
    pool: asyncpg.Pool, *, principal: Principal, menu_id: uuid.UUID, now: datetime
) -> tuple[VoiceMenu, datetime]:
    async with pool.acquire() as conn, conn.transaction():
        stored = await repository.get_menu(conn, menu_id=menu_id)
        if stored is None:
            raise not_found("voice menu")
        await repository.activate_menu(conn, menu_id=menu_id, by=principal.subject, at=now)
    return menu_of(stored), now


async def active_menu(pool: asyncpg.Pool) -> tuple[VoiceMenu, datetime] | None:
    async with pool.acquire() as conn:
        found = await repository.active_menu(conn)
    return (menu_of(found[0]), found[1]) if found else None


# ---- the provider's webhooks ----------------------------------------------------------------


@dataclass(frozen=True)
class CallEvent:
    call_sid: str
    caller: str | None
    called: str | None
    digits: str | None
    silence: bool


def _connect(route: Route) -> str:
    action = DIAL_PATH if route.kind is RouteKind.DESK else FALLBACK_DIAL_PATH
    return twiml.connect(announcement(route), route.number, action=action)


def _routed(
    leg: repository.StoredCallLeg, route: Route, digit: str | None, now: datetime
) -> repository.StoredCallLeg:
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


def _route_again(leg: repository.StoredCallLeg, menu: VoiceMenu | None, fallback: str) -> Route:
    """The route a leg already took, for a replayed or retried request."""
    option = menu.option(leg.digit) if menu and leg.digit else None
    reason = RouteReason(leg.route_reason or RouteReason.NO_CHOICE.value)
    if leg.routed_to == RouteKind.DESK.value and option is not None and option.desk is not None:
        return Route(RouteKind.DESK, option.desk.number, reason, option)
    return Route(RouteKind.FALLBACK, menu.fallback_number if menu else fallback, reason, option)


async def answer_call(
    pool: asyncpg.Pool, sealer: Sealer, *, call: CallEvent, now: datetime, fallback_number: str
) -> str:
    """TwiML for an incoming call, a digit, or silence after the menu."""
    async with pool.acquire() as conn, conn.transaction():
        leg = await repository.get_call_leg(conn, call_sid=call.call_sid, for_update=True)
        if leg is None:
            leg = await _open_leg(conn, sealer, call, now)
        stored_menu = await repository.get_menu(conn, menu_id=leg.menu_id) if leg.menu_id else None
        menu = menu_of(stored_menu) if stored_menu else None
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
) -> repository.StoredCallLeg:
    active = await repository.active_menu(conn)
    leg_id = uuid.uuid4()
    leg = repository.StoredCallLeg(
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
        stored_menu = await repository.get_menu(conn, menu_id=leg.menu_id) if leg.menu_id else None
        menu = menu_of(stored_menu) if stored_menu else None
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


# ---- call legs for counsellors --------------------------------------------------------------


@dataclass(frozen=True)
class CallLeg:
    id: uuid.UUID
    call_sid: str
    caller: str | None
    called_number: str | None
    menu_id: uuid.UUID | None
    digit: str | None
    topic: Topic | None
    started_at: datetime
    chosen_at: datetime | None
    routed_to: str | None
    route_reason: str | None
    desk_organisation_id: uuid.UUID | None
    dial_status: str | None
    ended_at: datetime | None
    consultation_id: uuid.UUID | None


def _leg(stored: repository.StoredCallLeg, caller: str | None) -> CallLeg:
    return CallLeg(
        id=stored.id,
        call_sid=stored.call_sid,
        caller=caller,
        called_number=stored.called_number,
        menu_id=stored.menu_id,
        digit=stored.digit,
        topic=Topic(stored.topic) if stored.topic else None,
        started_at=stored.started_at,
        chosen_at=stored.chosen_at,
        routed_to=stored.routed_to,
        route_reason=stored.route_reason,
        desk_organisation_id=stored.desk_organisation_id,
        dial_status=stored.dial_status,
        ended_at=stored.ended_at,
        consultation_id=stored.consultation_id,
    )


async def list_open_legs(pool: asyncpg.Pool, *, topic: Topic | None, limit: int) -> list[CallLeg]:
    """Calls not yet completed into a consultation; the caller's number is not in a list."""
    async with pool.acquire() as conn:
        found = await repository.list_open_call_legs(conn, topic=topic.value if topic else None, limit=limit)
    return [_leg(s, None) for s in found]


async def get_leg(pool: asyncpg.Pool, sealer: Sealer, *, leg_id: uuid.UUID) -> CallLeg:
    async with pool.acquire() as conn:
        stored = await repository.get_call_leg(conn, leg_id=leg_id)
    if stored is None:
        raise not_found("call leg")
    return _leg(stored, sealer.open(sealing.CALLER, stored.id, stored.caller_enc))
