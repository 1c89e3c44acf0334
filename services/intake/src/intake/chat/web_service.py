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
from eventkit.errors import not_found
from intake.chat import repository
from intake.chat.domain import QUEUED, WEB_CHANNEL, Chat, ChatClosed, ChatMessage, ChatState, MessageKind
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


def _message(*, sender: str, text: str, now: datetime) -> ChatMessage:
    return ChatMessage(
        id=uuid.uuid4(),
        sender=sender,
        counsellor=None,
        kind=MessageKind.TEXT.value,
        text=text,
        delivery="received" if sender == "user" else "sent",
        at=now,
    )


async def start(pool: asyncpg.Pool, sealer: Sealer, *, topic: Topic, now: datetime) -> uuid.UUID:
    """A new chat, already waiting for a counsellor on the chosen topic."""
    chat_id = uuid.uuid4()
    chat = Chat(
        id=chat_id,
        channel=WEB_CHANNEL,
        # One open chat per user_ref: a web chat is its own user.
        user_ref=f"web:{chat_id}",
        user_enc=None,
        state=ChatState.WAITING,
        topic=topic,
        started_at=now,
        topic_chosen_at=now,
        last_activity_at=now,
    )
    async with pool.acquire() as conn, conn.transaction():
        await repository.insert_chat(conn, chat=chat)
        await repository.insert_message(
            conn, sealer, chat_id=chat_id, message=_message(sender="bot", text=QUEUED, now=now)
        )
    telemetry.tag(case_id=chat_id)
    return chat_id


async def _web_chat(conn: asyncpg.Connection, chat_id: uuid.UUID, *, for_update: bool = False) -> Chat:
    chat = await repository.get_chat(conn, chat_id=chat_id, for_update=for_update)
    if chat is None or chat.channel != WEB_CHANNEL:
        raise not_found("web chat")
    telemetry.tag(case_id=chat.id)
    return chat


async def read(pool: asyncpg.Pool, sealer: Sealer, *, chat_id: uuid.UUID, after: int) -> PersonView:
    """The person's view: the chat's state, its place in the queue, the messages after `after`."""
    async with pool.acquire() as conn:
        chat = await _web_chat(conn, chat_id)
        transcript = await repository.list_messages(conn, sealer, chat_id=chat_id)
        position = None
        if chat.state is ChatState.WAITING:
            waiting = await repository.list_chats(
                conn, state=chat.state, topic=None, taken_by=None, limit=QUEUE_WINDOW
            )
            ids = [c.id for c in waiting]
            position = ids.index(chat.id) + 1 if chat.id in ids else len(ids) + 1
    messages = [
        PersonMessage(seq, m.sender, m.text, m.at) for seq, m in enumerate(transcript, start=1) if seq > after
    ]
    return PersonView(
        id=chat.id, state=chat.state, topic=chat.topic, queue_position=position, messages=messages
    )


async def write(pool: asyncpg.Pool, sealer: Sealer, *, chat_id: uuid.UUID, text: str, now: datetime) -> None:
    async with pool.acquire() as conn, conn.transaction():
        chat = await _web_chat(conn, chat_id, for_update=True)
        if chat.state is ChatState.CLOSED:
            raise ChatClosed("The chat has ended.")
        await repository.insert_message(
            conn, sealer, chat_id=chat_id, message=_message(sender="user", text=text, now=now)
        )
        await repository.update_chat(conn, chat=replace(chat, last_activity_at=now))


async def leave(pool: asyncpg.Pool, *, chat_id: uuid.UUID, now: datetime) -> None:
    """The person ended the chat; a counsellor may still close it into a consultation."""
    async with pool.acquire() as conn, conn.transaction():
        chat = await _web_chat(conn, chat_id, for_update=True)
        if chat.state is ChatState.WAITING:
            closed = replace(chat, state=ChatState.CLOSED, closed_at=now, closed_reason="user_left")
            await repository.update_chat(conn, chat=closed)
