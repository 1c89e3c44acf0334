"""Web chats: an anonymous person on the web chat page, relayed by the web package.

The same chats and messages as LINE's (channel 'web'), so a web chat waits in the same queue and
a counsellor takes, answers and closes it with the same API. What differs is the person's side:
no provider to push to (the web package asks for what is new), no user id (the chat id is the
only handle, and the web package holds it for the person), and the topic and the language are
chosen on the page. The bot speaks the chosen language.
"""

import math
import statistics
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import asyncpg

from contracts.vocabulary import Topic
from eventkit import telemetry
from eventkit.build import from_attributes
from eventkit.errors import Conflict, not_found
from intake.chat import repository
from intake.chat.domain import WEB_CHANNEL, Chat, ChatClosed, ChatConsent, ChatMessage, ChatState, MessageKind
from intake.chat.language import has_acute_risk, language_of
from intake.chat.speech import consent_lines, texts_for
from intake.consent.domain import ConsentDecision
from intake.sealing import Sealer

# Waiting chats counted for a queue position; beyond it the position reads as "more than".
QUEUE_WINDOW = 200
# The wait estimate: how long the chats taken in this recent window had waited (their median).
WAIT_WINDOW = timedelta(hours=2)


class ConsentNotAsked(Conflict):
    code = "consent_not_asked"


@dataclass(frozen=True)
class PersonMessage:
    seq: int
    sender: str  # user | bot | counsellor (never which counsellor)
    text: str | None
    at: datetime


@dataclass(frozen=True)
class ConsentQuestion:
    """The counsellor's open consent question, as the person's page shows it."""

    id: str
    lines: tuple[str, ...]
    agree: str
    disagree: str


@dataclass(frozen=True)
class PersonView:
    id: uuid.UUID
    state: ChatState
    topic: Topic | None
    language: str
    queue_position: int | None  # 1 is next
    wait_minutes: int | None  # the median wait of recently taken chats; None without any
    acute_risk: bool
    consent_question: ConsentQuestion | None
    closed_reason: str | None
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


async def start(
    pool: asyncpg.Pool, sealer: Sealer, *, topic: Topic, language: str, now: datetime
) -> uuid.UUID:
    """A new chat, already waiting for a counsellor on the chosen topic, in the chosen language."""
    chat_id = uuid.uuid4()
    lang = language_of(language)
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
        language=lang.value,
    )
    queued = _message(sender="bot", text=texts_for(lang).queued, now=now)
    async with pool.acquire() as conn, conn.transaction():
        await repository.insert_chat(conn, chat=chat)
        await repository.insert_message(conn, sealer, chat_id=chat_id, message=queued)
    telemetry.tag(case_id=chat_id)
    return chat_id


async def _web_chat(conn: asyncpg.Connection, chat_id: uuid.UUID, *, for_update: bool = False) -> Chat:
    chat = await repository.get_chat(conn, chat_id=chat_id, for_update=for_update)
    if chat is None or chat.channel != WEB_CHANNEL:
        raise not_found("web chat")
    telemetry.tag(case_id=chat.id)
    return chat


def _open_question(chat: Chat) -> ConsentQuestion | None:
    asked = chat.consent_requested
    if asked is None or chat.state is not ChatState.ACTIVE:
        return None
    if chat.consent is not None and chat.consent.request_id == asked.id:
        return None  # answered
    texts = texts_for(chat.language)
    return ConsentQuestion(asked.id, consent_lines(texts, asked.items), texts.agree, texts.disagree)


def wait_minutes(waits: list[float]) -> int | None:
    """The honest estimate: what recent people waited (median, whole minutes up), if any did."""
    if not waits:
        return None
    return max(1, math.ceil(statistics.median(waits) / 60))


async def read(
    pool: asyncpg.Pool, sealer: Sealer, *, chat_id: uuid.UUID, after: int, now: datetime
) -> PersonView:
    """The person's view: the chat's state, its place in the queue, the messages after `after`."""
    async with pool.acquire() as conn:
        chat = await _web_chat(conn, chat_id)
        transcript = await repository.list_messages(conn, sealer, chat_id=chat_id)
        position = estimate = None
        if chat.state is ChatState.WAITING:
            waiting = await repository.list_chats(
                conn, state=chat.state, topic=None, taken_by=None, limit=QUEUE_WINDOW
            )
            ids = [c.id for c in waiting]
            position = ids.index(chat.id) + 1 if chat.id in ids else len(ids) + 1
            estimate = wait_minutes(await repository.recent_waits(conn, since=now - WAIT_WINDOW))
    messages = [
        PersonMessage(seq, m.sender, m.text, m.at) for seq, m in enumerate(transcript, start=1) if seq > after
    ]
    return from_attributes(
        PersonView,
        chat,
        queue_position=position,
        wait_minutes=estimate,
        acute_risk=chat.acute_risk_at is not None,
        consent_question=_open_question(chat),
        closed_reason=chat.closed_reason if chat.state is ChatState.CLOSED else None,
        messages=messages,
    )


async def write(pool: asyncpg.Pool, sealer: Sealer, *, chat_id: uuid.UUID, text: str, now: datetime) -> None:
    """The person's words; words of acute risk mark the chat and bring the crisis numbers at once."""
    async with pool.acquire() as conn, conn.transaction():
        chat = await _web_chat(conn, chat_id, for_update=True)
        if chat.state is ChatState.CLOSED:
            raise ChatClosed("The chat has ended.")
        await repository.insert_message(
            conn, sealer, chat_id=chat_id, message=_message(sender="user", text=text, now=now)
        )
        changed = replace(chat, last_activity_at=now)
        if chat.acute_risk_at is None and has_acute_risk(text):
            changed = replace(changed, acute_risk_at=now)
            crisis = _message(sender="bot", text=texts_for(chat.language).crisis, now=now)
            await repository.insert_message(conn, sealer, chat_id=chat_id, message=crisis)
        await repository.update_chat(conn, chat=changed)


async def answer_consent(
    pool: asyncpg.Pool,
    sealer: Sealer,
    *,
    chat_id: uuid.UUID,
    request_id: str,
    decision: ConsentDecision,
    now: datetime,
) -> None:
    """The person's tap on the counsellor's consent question: the consent record, as LINE's click."""
    async with pool.acquire() as conn, conn.transaction():
        chat = await _web_chat(conn, chat_id, for_update=True)
        asked = chat.consent_requested
        if chat.state is not ChatState.ACTIVE or asked is None or asked.id != request_id:
            raise ConsentNotAsked("No such consent question is open in this chat.")
        if chat.consent is not None and chat.consent.request_id == asked.id:
            return  # a repeated tap: the first answer stands
        consent = ChatConsent(asked.id, decision, asked.items, asked.text_version, now)
        texts = texts_for(chat.language)
        said = texts.consent_given if decision is ConsentDecision.GIVEN else texts.consent_refused
        await repository.insert_message(
            conn, sealer, chat_id=chat_id, message=_message(sender="bot", text=said, now=now)
        )
        await repository.update_chat(conn, chat=replace(chat, consent=consent, last_activity_at=now))


async def leave(pool: asyncpg.Pool, sealer: Sealer, *, chat_id: uuid.UUID, now: datetime) -> None:
    """The person ended the chat, waiting or talking; the counsellor sees it at once and may still
    record it as a consultation."""
    async with pool.acquire() as conn, conn.transaction():
        chat = await _web_chat(conn, chat_id, for_update=True)
        if chat.state is ChatState.CLOSED:
            return
        closed = replace(
            chat, state=ChatState.CLOSED, closed_at=now, closed_reason="user_left", last_activity_at=now
        )
        left = _message(sender="bot", text=texts_for(chat.language).left, now=now)
        await repository.insert_message(conn, sealer, chat_id=chat_id, message=left)
        await repository.update_chat(conn, chat=closed)
