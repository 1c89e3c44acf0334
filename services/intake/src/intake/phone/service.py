"""phone's use cases for people: voice menus (operators) and call legs (counsellors)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from contracts.vocabulary import Topic
from eventkit.auth import Principal
from eventkit.errors import not_found
from intake import sealing
from intake.phone import repository
from intake.phone.domain import MenuDraft, VoiceMenu
from intake.phone.repository import StoredCallLeg
from intake.sealing import Sealer

# ---- voice menus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedMenu:
    """A menu version, and whether it is the one callers hear."""

    menu: VoiceMenu
    active: bool
    activated_at: datetime | None = None


async def create_menu(
    pool: asyncpg.Pool, *, principal: Principal, draft: MenuDraft, default_fallback: str, now: datetime
) -> ListedMenu:
    draft.validate()
    async with pool.acquire() as conn, conn.transaction():
        menu = await repository.insert_menu(
            conn,
            draft=draft,
            fallback_number=draft.fallback_number or default_fallback,
            by=principal.subject,
            at=now,
        )
    return ListedMenu(menu, active=False)


async def get_menu(pool: asyncpg.Pool, *, menu_id: uuid.UUID) -> ListedMenu:
    async with pool.acquire() as conn:
        menu = await repository.get_menu(conn, menu_id=menu_id)
        if menu is None:
            raise not_found("voice menu")
        active = await repository.active_menu(conn)
    return ListedMenu(menu, active=active is not None and active[0].id == menu.id)


async def list_menus(pool: asyncpg.Pool, *, campaign: str | None, limit: int) -> list[ListedMenu]:
    async with pool.acquire() as conn:
        menus = await repository.list_menus(conn, campaign=campaign, limit=limit)
        active = await repository.active_menu(conn)
    active_id = active[0].id if active else None
    return [ListedMenu(m, active=m.id == active_id) for m in menus]


async def activate_menu(
    pool: asyncpg.Pool, *, principal: Principal, menu_id: uuid.UUID, now: datetime
) -> ListedMenu:
    """Calls already in the menu finish with the version they started with."""
    async with pool.acquire() as conn, conn.transaction():
        menu = await repository.get_menu(conn, menu_id=menu_id)
        if menu is None:
            raise not_found("voice menu")
        await repository.activate_menu(conn, menu_id=menu_id, by=principal.subject, at=now)
    return ListedMenu(menu, active=True, activated_at=now)


async def active_menu(pool: asyncpg.Pool) -> ListedMenu:
    async with pool.acquire() as conn:
        found = await repository.active_menu(conn)
    if found is None:
        raise not_found("active voice menu")
    return ListedMenu(found[0], active=True, activated_at=found[1])


# ---- call legs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallLeg:
    """A call leg as counsellors see it: its row, and the caller's number opened when one leg is
    read. The HTTP edge's answer lists what of it may leave the service."""

    stored: StoredCallLeg
    caller: str | None


async def list_open_legs(pool: asyncpg.Pool, *, topic: Topic | None, limit: int) -> list[CallLeg]:
    """Calls not yet completed into a consultation; the caller's number is not in a list."""
    async with pool.acquire() as conn:
        found = await repository.list_open_call_legs(conn, topic=topic.value if topic else None, limit=limit)
    return [CallLeg(s, None) for s in found]


async def get_leg(pool: asyncpg.Pool, sealer: Sealer, *, leg_id: uuid.UUID) -> CallLeg:
    async with pool.acquire() as conn:
        stored = await repository.get_call_leg(conn, leg_id=leg_id)
    if stored is None:
        raise not_found("call leg")
    return CallLeg(stored, sealer.open(sealing.CALLER, stored.id, stored.caller_enc))
