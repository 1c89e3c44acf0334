"""chat's SQL: chats, their messages (text sealed), and the LINE webhook events already applied."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from contracts.vocabulary import Topic
from eventkit.build import from_row
from intake import sealing
from intake.chat.domain import Chat, ChatConsent, ChatMessage, ChatState, ConsentRequest
from intake.consent.domain import ConsentDecision, ConsentItem
from intake.sealing import Sealer

# ---- JSON shapes of the chat's consent columns ----------------------------------------------


def _request_json(r: ConsentRequest | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "id": r.id,
        "items": sorted(i.value for i in r.items),
        "text_version": r.text_version,
        "requested_by": r.requested_by,
        "requested_at": r.requested_at.isoformat(),
    }


def _request_of(data: dict[str, Any] | None) -> ConsentRequest | None:
    if not data:
        return None
    return ConsentRequest(
        id=str(data["id"]),
        items=frozenset(ConsentItem(i) for i in data["items"]),
        text_version=str(data["text_version"]),
        requested_by=str(data["requested_by"]),
        requested_at=datetime.fromisoformat(str(data["requested_at"])),
    )


def _consent_json(c: ChatConsent | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "request_id": c.request_id,
        "decision": c.decision.value,
        "items": sorted(i.value for i in c.items),
        "text_version": c.text_version,
        "at": c.at.isoformat(),
    }


def _consent_of(data: dict[str, Any] | None) -> ChatConsent | None:
    if not data:
        return None
    return ChatConsent(
        request_id=str(data["request_id"]),
        decision=ConsentDecision(data["decision"]),
        items=frozenset(ConsentItem(i) for i in data["items"]),
        text_version=str(data["text_version"]),
        at=datetime.fromisoformat(str(data["at"])),
    )


# ---- chats ----------------------------------------------------------------------------------

_CHAT_FIELDS = (
    "id",
    "channel",
    "user_ref",
    "user_enc",
    "state",
    "topic",
    "started_at",
    "topic_chosen_at",
    "taken_by",
    "taken_at",
    "last_activity_at",
    "consent",
    "consent_requested",
    "closed_at",
    "closed_by",
    "closed_reason",
    "consultation_id",
    "purged_at",
    "language",
    "acute_risk_at",
    "farewell",
)
_CHAT_COLUMNS = ", ".join(_CHAT_FIELDS)


def _row(chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "channel": chat.channel,
        "user_ref": chat.user_ref,
        "user_enc": chat.user_enc,
        "state": chat.state.value,
        "topic": chat.topic.value if chat.topic else None,
        "started_at": chat.started_at,
        "topic_chosen_at": chat.topic_chosen_at,
        "taken_by": chat.taken_by,
        "taken_at": chat.taken_at,
        "last_activity_at": chat.last_activity_at,
        "consent": _consent_json(chat.consent),
        "consent_requested": _request_json(chat.consent_requested),
        "closed_at": chat.closed_at,
        "closed_by": chat.closed_by,
        "closed_reason": chat.closed_reason,
        "consultation_id": chat.consultation_id,
        "purged_at": chat.purged_at,
        "language": chat.language,
        "acute_risk_at": chat.acute_risk_at,
        "farewell": chat.farewell,
    }


def _chat(row: asyncpg.Record) -> Chat:
    data = dict(row)
    return Chat(
        **{
            **data,
            "state": ChatState(data["state"]),
            "topic": Topic(data["topic"]) if data["topic"] else None,
            "consent": _consent_of(data["consent"]),
            "consent_requested": _request_of(data["consent_requested"]),
        }
    )


async def insert_chat(conn: asyncpg.Connection, *, chat: Chat) -> bool:
    """False if the user already has an open chat (two first messages at once)."""
    placeholders = ", ".join(f"${i}" for i in range(1, len(_CHAT_FIELDS) + 1))
    inserted = await conn.fetchval(
        f"""INSERT INTO chats ({_CHAT_COLUMNS}) VALUES ({placeholders})
            ON CONFLICT (user_ref) WHERE state <> 'closed' DO NOTHING RETURNING true""",
        *_row(chat).values(),
    )
    return bool(inserted)


async def update_chat(conn: asyncpg.Connection, *, chat: Chat) -> None:
    row = _row(chat)
    names = [n for n in _CHAT_FIELDS if n not in ("id", "channel", "started_at")]
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(f"UPDATE chats SET {assignments} WHERE id = $1", chat.id, *[row[n] for n in names])


async def find_open_chat(conn: asyncpg.Connection, *, user_ref: str) -> Chat | None:
    row = await conn.fetchrow(
        f"SELECT {_CHAT_COLUMNS} FROM chats WHERE user_ref = $1 AND state <> 'closed' FOR UPDATE", user_ref
    )
    return _chat(row) if row else None


async def get_chat(conn: asyncpg.Connection, *, chat_id: uuid.UUID, for_update: bool = False) -> Chat | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE id = $1{lock}", chat_id)
    return _chat(row) if row else None


async def list_chats(
    conn: asyncpg.Connection,
    *,
    state: ChatState,
    topic: Topic | None,
    taken_by: str | None,
    limit: int,
    since: datetime | None = None,
) -> list[Chat]:
    """Chats marked for acute risk first, then oldest first, by when the chat joined the queue
    (its topic chosen) or opened."""
    rows = await conn.fetch(
        f"""SELECT {_CHAT_COLUMNS} FROM chats
             WHERE state = $1 AND ($2::text IS NULL OR topic = $2) AND ($3::text IS NULL OR taken_by = $3)
               AND ($5::timestamptz IS NULL OR coalesce(topic_chosen_at, started_at) >= $5)
             ORDER BY (acute_risk_at IS NULL), coalesce(topic_chosen_at, started_at), started_at, id
             LIMIT $4""",
        state.value,
        topic.value if topic else None,
        taken_by,
        limit,
        since,
    )
    return [_chat(r) for r in rows]


async def recent_waits(conn: asyncpg.Connection, *, since: datetime, limit: int = 20) -> list[float]:
    """How long (seconds) the chats most recently taken had waited, newest first."""
    rows = await conn.fetch(
        """SELECT extract(epoch FROM taken_at - coalesce(topic_chosen_at, started_at)) AS waited
             FROM chats WHERE taken_at IS NOT NULL AND taken_at >= $1 ORDER BY taken_at DESC LIMIT $2""",
        since,
        limit,
    )
    return [max(0.0, float(r["waited"])) for r in rows]


# ---- messages -------------------------------------------------------------------------------


async def count_messages(conn: asyncpg.Connection, *, chat_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await conn.fetch(
        "SELECT chat_id, count(*) AS n FROM chat_messages WHERE chat_id = ANY($1::uuid[]) GROUP BY chat_id",
        chat_ids,
    )
    return {r["chat_id"]: r["n"] for r in rows}


async def insert_message(
    conn: asyncpg.Connection, sealer: Sealer, *, chat_id: uuid.UUID, message: ChatMessage
) -> None:
    await conn.execute(
        """INSERT INTO chat_messages
               (id, chat_id, sender, counsellor, kind, text_enc, provider_message_id, delivery, at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        message.id,
        chat_id,
        message.sender,
        message.counsellor,
        message.kind,
        sealer.seal(sealing.MESSAGE_TEXT, message.id, message.text),
        message.provider_message_id,
        message.delivery,
        message.at,
    )


async def set_message_delivery(conn: asyncpg.Connection, *, message_id: uuid.UUID, delivery: str) -> None:
    await conn.execute("UPDATE chat_messages SET delivery = $2 WHERE id = $1", message_id, delivery)


async def list_messages(conn: asyncpg.Connection, sealer: Sealer, *, chat_id: uuid.UUID) -> list[ChatMessage]:
    """The transcript, in order."""
    rows = await conn.fetch(
        """SELECT id, sender, counsellor, kind, text_enc, provider_message_id, delivery, at
             FROM chat_messages WHERE chat_id = $1 ORDER BY seq""",
        chat_id,
    )
    return [
        from_row(ChatMessage, r, text=sealer.open(sealing.MESSAGE_TEXT, r["id"], r["text_enc"])) for r in rows
    ]


async def claim_line_event(conn: asyncpg.Connection, *, event_id: str, at: datetime) -> bool:
    """True the first time LINE's webhook event id is seen; a replay or redelivery gets False."""
    claimed = await conn.fetchval(
        """INSERT INTO line_webhook_events (webhook_event_id, received_at) VALUES ($1, $2)
           ON CONFLICT DO NOTHING RETURNING true""",
        event_id,
        at,
    )
    return bool(claimed)
