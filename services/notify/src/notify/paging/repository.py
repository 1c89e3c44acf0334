"""The only SQL of paging: pages, the alerts they stand for, their messages, the rota, and the
S4 referrals notify found unacknowledged. Returns domain objects; no asyncpg.Record leaves."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from notify.paging.domain import Message, NewMessage, Page, PageState
from notify.paging.rota import Cover, Shift, Weekly

_PAGE_COLUMNS = (
    "id, dedup_key, kind, kinds, referral_id, case_id, severity, source, detail, occurrences, "
    "raised_at, state, rounds, next_page_at, last_paged_at, acknowledged_at, acknowledged_by, "
    "resolved_at, resolved_by"
)
_PAGE_PARAMS = ", ".join(f"${n}" for n in range(1, _PAGE_COLUMNS.count(",") + 2))  # one a column


def _page(row: asyncpg.Record) -> Page:
    values = dict(row)
    values["kinds"] = tuple(values["kinds"])
    values["detail"] = tuple(values["detail"])
    values["state"] = PageState(values["state"])
    return Page(**values)


async def alert_seen(conn: asyncpg.Connection, *, alert_id: uuid.UUID) -> bool:
    found = await conn.fetchval("SELECT 1 FROM page_alerts WHERE alert_id = $1", alert_id)
    return found is not None


async def record_alert(
    conn: asyncpg.Connection, *, alert_id: uuid.UUID, page_id: uuid.UUID, kind: str, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO page_alerts (alert_id, page_id, kind, received_at) VALUES ($1, $2, $3, $4)",
        alert_id,
        page_id,
        kind,
        at,
    )


async def open_page(conn: asyncpg.Connection, *, dedup_key: str) -> Page | None:
    row = await conn.fetchrow(
        f"SELECT {_PAGE_COLUMNS} FROM pages WHERE dedup_key = $1 AND state <> 'resolved' FOR UPDATE",
        dedup_key,
    )
    return _page(row) if row else None


async def get_page(conn: asyncpg.Connection, *, page_id: uuid.UUID, lock: bool = False) -> Page | None:
    row = await conn.fetchrow(
        f"SELECT {_PAGE_COLUMNS} FROM pages WHERE id = $1" + (" FOR UPDATE" if lock else ""), page_id
    )
    return _page(row) if row else None


async def insert_page(conn: asyncpg.Connection, *, page: Page) -> None:
    await conn.execute(f"INSERT INTO pages ({_PAGE_COLUMNS}) VALUES ({_PAGE_PARAMS})", *_values(page))


async def update_page(conn: asyncpg.Connection, *, page: Page) -> None:
    """Write the page back whole: what changes (the kinds that joined it, its state, its rounds,
    who acted) and what never does, which keeps its own value."""
    await conn.execute(f"UPDATE pages SET ({_PAGE_COLUMNS}) = ({_PAGE_PARAMS}) WHERE id = $1", *_values(page))


def _values(page: Page) -> tuple[Any, ...]:
    return (
        page.id,
        page.dedup_key,
        page.kind,
        list(page.kinds),
        page.referral_id,
        page.case_id,
        page.severity,
        page.source,
        list(page.detail),
        page.occurrences,
        page.raised_at,
        page.state.value,
        page.rounds,
        page.next_page_at,
        page.last_paged_at,
        page.acknowledged_at,
        page.acknowledged_by,
        page.resolved_at,
        page.resolved_by,
    )


async def due_pages(conn: asyncpg.Connection, *, now: datetime, limit: int) -> list[Page]:
    """Triggered pages due to page again, locked for this transaction; another worker skips them."""
    rows = await conn.fetch(
        f"""SELECT {_PAGE_COLUMNS} FROM pages
            WHERE state = 'triggered' AND next_page_at <= $1
            ORDER BY next_page_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
        now,
        limit,
    )
    return [_page(row) for row in rows]


async def list_pages(conn: asyncpg.Connection, *, open_only: bool, limit: int) -> list[Page]:
    rows = await conn.fetch(
        f"""SELECT {_PAGE_COLUMNS} FROM pages WHERE (NOT $1 OR state <> 'resolved')
            ORDER BY (state = 'triggered') DESC, raised_at DESC LIMIT $2""",
        open_only,
        limit,
    )
    return [_page(row) for row in rows]


# ---- messages ---------------------------------------------------------------------------------

_MESSAGE_COLUMNS = (
    "id, page_id, round, action, channel, recipient_name, recipient, payload, status, tries, "
    "next_try_at, last_error, http_status, sent_at, created_at"
)


def _message(row: asyncpg.Record) -> Message:
    return Message(**dict(row))


async def insert_messages(conn: asyncpg.Connection, *, messages: Sequence[NewMessage], now: datetime) -> None:
    await conn.executemany(
        """INSERT INTO page_messages
               (id, page_id, round, action, channel, recipient_name, recipient, payload, next_try_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        [
            (
                m.id,
                m.page_id,
                m.round,
                m.action.value,
                m.channel,
                m.recipient_name,
                m.recipient,
                m.payload,
                now,
            )
            for m in messages
        ],
    )


async def cancel_triggers(conn: asyncpg.Connection, *, page_id: uuid.UUID) -> None:
    """An earlier round still unsent is pointless once a new round or the acknowledgement came."""
    await conn.execute(
        """UPDATE page_messages SET status = 'cancelled', lease_until = NULL
           WHERE page_id = $1 AND action = 'trigger' AND status = 'pending'""",
        page_id,
    )


async def claim_messages(
    conn: asyncpg.Connection, *, now: datetime, lease: timedelta, limit: int
) -> list[Message]:
    """Due messages (and ones a crashed sender left), leased to this sender."""
    rows = await conn.fetch(
        f"""UPDATE page_messages SET status = 'sending', lease_until = $1 + $2::interval
            WHERE id IN (
                SELECT id FROM page_messages
                WHERE (status = 'pending' AND next_try_at <= $1)
                   OR (status = 'sending' AND lease_until <= $1)
                ORDER BY next_try_at LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING {_MESSAGE_COLUMNS}""",
        now,
        lease,
        limit,
    )
    return [_message(row) for row in rows]


async def finish_message(
    conn: asyncpg.Connection,
    *,
    message_id: uuid.UUID,
    status: str,
    tries: int,
    next_try_at: datetime,
    last_error: str | None,
    http_status: int | None,
    sent_at: datetime | None,
) -> None:
    await conn.execute(
        """UPDATE page_messages SET status = $2, tries = $3, next_try_at = $4, last_error = $5,
               http_status = $6, sent_at = $7, lease_until = NULL
           WHERE id = $1 AND status = 'sending'""",
        message_id,
        status,
        tries,
        next_try_at,
        last_error,
        http_status,
        sent_at,
    )


async def messages_of(conn: asyncpg.Connection, *, page_id: uuid.UUID) -> list[Message]:
    rows = await conn.fetch(
        f"SELECT {_MESSAGE_COLUMNS} FROM page_messages WHERE page_id = $1 ORDER BY created_at, channel",
        page_id,
    )
    return [_message(row) for row in rows]


# ---- the rota ---------------------------------------------------------------------------------


def _shift(row: asyncpg.Record) -> Shift:
    when: Weekly | Cover
    if row["weekdays"] is not None:
        when = Weekly(frozenset(row["weekdays"]), row["starts_min"], row["ends_min"])
    else:
        when = Cover(row["starts_at"], row["ends_at"])
    return Shift(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        when=when,
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


async def list_shifts(conn: asyncpg.Connection, *, ended_before: datetime | None = None) -> list[Shift]:
    """The rota; cover shifts that ended before `ended_before` are history and left out."""
    rows = await conn.fetch(
        """SELECT id, name, email, weekdays, starts_min, ends_min, starts_at, ends_at, created_at,
                  created_by
           FROM oncall_shifts WHERE ends_at IS NULL OR $1::timestamptz IS NULL OR ends_at > $1
           ORDER BY starts_at NULLS FIRST, weekdays, starts_min, name""",
        ended_before,
    )
    return [_shift(row) for row in rows]


async def insert_shift(conn: asyncpg.Connection, *, shift: Shift) -> None:
    weekly = shift.when if isinstance(shift.when, Weekly) else None
    cover = shift.when if isinstance(shift.when, Cover) else None
    await conn.execute(
        """INSERT INTO oncall_shifts (id, name, email, weekdays, starts_min, ends_min, starts_at,
                                      ends_at, created_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        shift.id,
        shift.name,
        shift.email,
        sorted(weekly.weekdays) if weekly else None,
        weekly.starts_min if weekly else None,
        weekly.ends_min if weekly else None,
        cover.starts_at if cover else None,
        cover.ends_at if cover else None,
        shift.created_at,
        shift.created_by,
    )


async def delete_shift(conn: asyncpg.Connection, *, shift_id: uuid.UUID) -> bool:
    done: str = await conn.execute("DELETE FROM oncall_shifts WHERE id = $1", shift_id)
    return done.endswith(" 1")


# ---- S4 referrals no organisation accepted in time ----------------------------------------------


async def s4_unacknowledged(
    conn: asyncpg.Connection, *, offered_before: datetime, offered_after: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID, datetime]]:
    """(referral, case, first offer) of S4 referrals offered before `offered_before` (and not
    before `offered_after`: older ones are history) that no organisation has accepted, that were
    not withdrawn, and that raised no alert yet."""
    rows = await conn.fetch(
        """SELECT a.referral_id, min(a.case_id::text)::uuid AS case_id, min(a.offered_at) AS first
           FROM alerts a
           WHERE a.severity = 'S4' AND a.offered_at > $2
             AND NOT EXISTS (SELECT 1 FROM s4_unacknowledged s WHERE s.referral_id = a.referral_id)
           GROUP BY a.referral_id
           HAVING min(a.offered_at) <= $1 AND min(a.offered_at) > $2
              AND bool_and(a.state NOT IN ('acknowledged', 'withdrawn'))
           ORDER BY first LIMIT $3""",
        offered_before,
        offered_after,
        limit,
    )
    return [(row["referral_id"], row["case_id"], row["first"]) for row in rows]


async def record_s4(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, alert_id: uuid.UUID, at: datetime
) -> bool:
    done: str = await conn.execute(
        """INSERT INTO s4_unacknowledged (referral_id, alert_id, raised_at) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING""",
        referral_id,
        alert_id,
        at,
    )
    return done.endswith(" 1")
