"""Paging's use cases: an alert opens or joins a page; a due page pages the people on call again;
an operator acknowledges; the rota is read and edited; S4 referrals nobody accepted in time raise
an operator alert. Each is one transaction; what to send is stored as messages the sender sends."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from contracts.events import OperatorAlertRaised
from contracts.vocabulary import AlertKind, Severity
from eventkit import outbox
from eventkit.errors import NotFound
from notify.paging import messages, repository, rota
from notify.paging.domain import (
    Alarm,
    Message,
    Page,
    PagerAction,
    PagingPolicy,
    acknowledge,
    is_s4_unacknowledged,
    is_stale,
    join,
    open_page,
    paged,
    referral_dedup_key,
    resolve,
    s4_alert_id,
)

SETTLED_BY = "referral"

log = logging.getLogger(__name__)
WAKE_CHANNEL = "pages"


@dataclass(frozen=True)
class Pager:
    """Where pages go besides e-mail; `webhook` False when no pager is configured."""

    webhook: bool
    dashboard_url: str


class PageNotFound(NotFound):
    code = "page_not_found"


class ShiftNotFound(NotFound):
    code = "shift_not_found"


async def receive_alarm(
    conn: asyncpg.Connection, alarm: Alarm, *, now: datetime, policy: PagingPolicy
) -> Page | None:
    """Open a page for the alarm, or count it on the referral's open page. A replayed alert (same
    alert id) and a stale one page nobody. Inside the consumer's transaction."""
    if is_stale(alarm, now=now, policy=policy) or await repository.alert_seen(conn, alert_id=alarm.alert_id):
        return None
    page = await repository.open_page(conn, dedup_key=alarm.dedup_key)
    if page is None:
        page = open_page(alarm, now=now)
        await repository.insert_page(conn, page=page)
        await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)
        log.info("page %s opened (%s)", page.id, page.kind)
    else:
        page = join(page, alarm)
        await repository.update_page(conn, page=page)
    await repository.record_alert(
        conn, alert_id=alarm.alert_id, page_id=page.id, kind=alarm.kind.value, at=now
    )
    return page


async def page_due(
    pool: asyncpg.Pool, *, now: datetime, policy: PagingPolicy, pager: Pager, limit: int = 20
) -> int:
    """One round for each page due: e-mail the people on call now and trigger the pager."""
    async with pool.acquire() as conn, conn.transaction():
        due = await repository.due_pages(conn, now=now, limit=limit)
        if not due:
            return 0
        on_call = rota.on_call(await repository.list_shifts(conn, ended_before=now), now)
        if not on_call:
            log.warning("%d pages due and nobody is on call: the pager alone is paged", len(due))
        for page in due:
            round_ = messages.round_messages(
                page, on_call=on_call, pager=pager.webhook, dashboard_url=pager.dashboard_url
            )
            await repository.cancel_triggers(conn, page_id=page.id)
            await repository.insert_messages(conn, messages=round_, now=now)
            await repository.update_page(conn, page=paged(page, now=now, policy=policy))
        return len(due)


async def acknowledge_page(
    pool: asyncpg.Pool, *, page_id: uuid.UUID, by: str, now: datetime, pager: Pager
) -> Page:
    """Someone has it: no more rounds, unsent ones cancelled, the pager told. Again: unchanged."""
    async with pool.acquire() as conn, conn.transaction():
        page = await repository.get_page(conn, page_id=page_id, lock=True)
        if page is None:
            raise PageNotFound("No such page.")
        change = acknowledge(page, by=by, at=now)
        if change.repeated:
            return change.page
        await repository.update_page(conn, page=change.page)
        await repository.cancel_triggers(conn, page_id=page.id)
        if pager.webhook and change.action is PagerAction.ACKNOWLEDGE and page.rounds > 0:
            closing = messages.closing_message(
                change.page, PagerAction.ACKNOWLEDGE, dashboard_url=pager.dashboard_url
            )
            await repository.insert_messages(conn, messages=[closing], now=now)
        log.info("page %s acknowledged after %d rounds", page.id, page.rounds)
        return change.page


async def settle_referral(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, at: datetime, pager: Pager
) -> None:
    """The referral found an organisation, was withdrawn or was handled elsewhere: its open page is
    resolved (the pager hears `resolve`); a later alert opens a new one. Inside the consumer's
    transaction; a referral with no open page changes nothing."""
    page = await repository.open_page(conn, dedup_key=referral_dedup_key(referral_id))
    if page is None:
        return
    change = resolve(page, by=SETTLED_BY, at=at)
    await repository.update_page(conn, page=change.page)
    await repository.cancel_triggers(conn, page_id=page.id)
    if pager.webhook and page.rounds > 0:
        closing = messages.closing_message(
            change.page, PagerAction.RESOLVE, dashboard_url=pager.dashboard_url
        )
        await repository.insert_messages(conn, messages=[closing], now=at)
    log.info("page %s resolved: the referral settled", page.id)


async def list_pages(pool: asyncpg.Pool, *, open_only: bool, limit: int) -> list[Page]:
    async with pool.acquire() as conn:
        return await repository.list_pages(conn, open_only=open_only, limit=limit)


async def page_with_messages(pool: asyncpg.Pool, *, page_id: uuid.UUID) -> tuple[Page, list[Message]]:
    async with pool.acquire() as conn:
        page = await repository.get_page(conn, page_id=page_id)
        if page is None:
            raise PageNotFound("No such page.")
        return page, await repository.messages_of(conn, page_id=page_id)


# ---- the rota ---------------------------------------------------------------------------------


async def rota_now(pool: asyncpg.Pool, *, now: datetime) -> tuple[list[rota.Shift], tuple[rota.Shift, ...]]:
    """The rota (without cover shifts that ended) and who is on call now."""
    async with pool.acquire() as conn:
        shifts = await repository.list_shifts(conn, ended_before=now)
    return shifts, rota.on_call(shifts, now)


async def add_shift(
    pool: asyncpg.Pool, *, name: str, email: str, when: rota.Weekly | rota.Cover, by: str, now: datetime
) -> rota.Shift:
    shift = rota.Shift(id=uuid.uuid4(), name=name, email=email, when=when, created_at=now, created_by=by)
    async with pool.acquire() as conn:
        await repository.insert_shift(conn, shift=shift)
    log.info("on-call shift %s added", shift.id)
    return shift


async def remove_shift(pool: asyncpg.Pool, *, shift_id: uuid.UUID) -> None:
    async with pool.acquire() as conn:
        if not await repository.delete_shift(conn, shift_id=shift_id):
            raise ShiftNotFound("No such shift.")
    log.info("on-call shift %s removed", shift_id)


# ---- S4 referrals no organisation accepted in time ----------------------------------------------


async def raise_s4_unacknowledged(
    pool: asyncpg.Pool, *, now: datetime, limit: timedelta, policy: PagingPolicy
) -> int:
    """An operator alert (through the outbox, so /ops shows it and paging pages it) for each S4
    referral whose first offer is older than `limit` while no organisation has accepted it."""
    async with pool.acquire() as conn, conn.transaction():
        found = await repository.s4_unacknowledged(
            conn, offered_before=now - limit, offered_after=now - limit - policy.max_alert_age, limit=50
        )
        for referral_id, case_id, first in found:
            if not is_s4_unacknowledged(first_offered_at=first, now=now, limit=limit):
                continue
            alert_id = s4_alert_id(referral_id)
            if not await repository.record_s4(conn, referral_id=referral_id, alert_id=alert_id, at=now):
                continue
            await outbox.append(
                conn,
                OperatorAlertRaised(
                    case_id=case_id,
                    alert_id=alert_id,
                    kind=AlertKind.S4_UNACKNOWLEDGED,
                    referral_id=referral_id,
                    severity=Severity.S4,
                    raised_by="notify",
                    detail=(f"unacknowledged_after_s:{int(limit.total_seconds())}",),
                    raised_at=now,
                ),
            )
            log.warning("S4 referral %s not accepted in time: operator alert raised", referral_id)
        return len(found)
