"""Web chats: an anonymous person on the web chat page, relayed by the web package.

The same chats and messages as LINE's (channel 'web'), so a web chat waits in the same queue and
a counsellor takes, answers and closes it with the same API. What differs is the person's side:
no provider to push to (the web package asks for what is new), no user id (the chat id is the
only handle, and the web package holds it for the person), and the topic is chosen on the page.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from contracts.vocabulary import Topic
from eventkit import telemetry
from eventkit.errors import ApiError, not_found
from intake import repository, sealing
from intake.chat import QUEUED, ChatState, MessageKind
from intake.chats import WEB_CHANNEL
from intake.sealing import Sealer

# Waiting chats counted for a queue position; beyond it the position reads as "more than".
QUEUE_WINDOW = 200


@dataclass(frozen=True)
class PersonMessage:
    seq: int
    sender: str  # user | bot | counsellor (never which counsellor)
    text: str | None
    at: datetime


@dataclass(frozen=True)
class PersonView:
    id: uuid.UUID
    state: ChatState
    topic: Topic | None
    queue_position: int | None
    messages: list[PersonMessage]


def _message(
    chat_id: uuid.UUID, sealer: Sealer, *, sender: str, text: str, now: datetime
) -> repository.StoredMessage:
    message_id = uuid.uuid4()
    return repository.StoredMessage(
        id=message_id,
        chat_id=chat_id,
        sender=sender,
        counsellor=None,
        kind=MessageKind.TEXT.value,
        text_enc=sealer.seal(sealing.MESSAGE_TEXT, message_id, text),
        provider_message_id=None,
        delivery="received" if sender == "user" else "sent",
        at=now,
    )


async def start(pool: asyncpg.Pool, sealer: Sealer, *, topic: Topic, now: datetime) -> uuid.UUID:
    """A new chat, already waiting for a counsellor on the chosen topic."""
    chat_id = uuid.uuid4()
    chat = repository.StoredChat(
        id=chat_id,
        channel=WEB_CHANNEL,
        # One open chat per user_ref: a web chat is its own user.
        user_ref=f"web:{chat_id}",
        user_enc=None,
        state=ChatState.WAITING.value,
        topic=topic.value,
        started_at=now,
        topic_chosen_at=now,
        taken_by=None,
        taken_at=None,
        last_activity_at=now,
        consent=None,
        consent_requested=None,
        closed_at=None,
        closed_by=None,
        closed_reason=None,
        consultation_id=None,
        purged_at=None,
    )
    async with pool.acquire() as conn, conn.transaction():
        await repository.insert_chat(conn, chat=chat)
        await repository.insert_message(
            conn, message=_message(chat_id, sealer, sender="bot", text=QUEUED, now=now)
        )
    telemetry.tag(case_id=chat_id)
    return chat_id


async def _web_chat(
    conn: asyncpg.Connection, chat_id: uuid.UUID, *, for_update: bool = False
) -> repository.StoredChat:
    chat = await repository.get_chat(conn, chat_id=chat_id, for_update=for_update)
    if chat is None or chat.channel != WEB_CHANNEL:
        raise not_found("web chat")
    telemetry.tag(case_id=chat.id)
    return chat


async def read(pool: asyncpg.Pool, sealer: Sealer, *, chat_id: uuid.UUID, after: int) -> PersonView:
    async with pool.acquire() as conn:
        chat = await _web_chat(conn, chat_id)
        rows = await repository.list_messages(conn, chat_id=chat_id)
        position = None
        if chat.state == ChatState.WAITING.value:
            waiting = await repository.list_chats(
                conn, state=chat.state, topic=None, taken_by=None, limit=QUEUE_WINDOW
            )
            ids = [c.id for c in waiting]
            position = ids.index(chat.id) + 1 if chat.id in ids else len(ids) + 1
    messages = [
        PersonMessage(seq, r.sender, sealer.open(sealing.MESSAGE_TEXT, r.id, r.text_enc), r.at)
        for seq, r in enumerate(rows, start=1)
        if seq > after
    ]
    return PersonView(
        id=chat.id,
        state=ChatState(chat.state),
        topic=Topic(chat.topic) if chat.topic else None,
        queue_position=position,
        messages=messages,
    )


async def write(pool: asyncpg.Pool, sealer: Sealer, *, chat_id: uuid.UUID, text: str, now: datetime) -> None:
    async with pool.acquire() as conn, conn.transaction():
        chat = await _web_chat(conn, chat_id, for_update=True)
        if chat.state == ChatState.CLOSED.value:
            raise ApiError(409, "chat_closed", "The chat has ended.")
        await repository.insert_message(
            conn, message=_message(chat_id, sealer, sender="user", text=text, now=now)
        )
        await repository.update_chat(conn, chat=replace(chat, last_activity_at=now))


async def leave(pool: asyncpg.Pool, *, chat_id: uuid.UUID, now: datetime) -> None:
    """The person ended the chat; a counsellor may still close it into a consultation."""
    async with pool.acquire() as conn, conn.transaction():
        chat = await _web_chat(conn, chat_id, for_update=True)
        if chat.state in (ChatState.CLOSED.value,):
            return
        if chat.state == ChatState.WAITING.value:
            closed = replace(chat, state=ChatState.CLOSED.value, closed_at=now, closed_reason="user_left")
            await repository.update_chat(conn, chat=closed)
