"""chat's use cases for counsellors: the queue, taking a chat, answering, asking for consent,
recording the chat as a consultation and, as a separate step, ending it with the closing message
the recorded outcome calls for."""

import contextlib
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from contracts.vocabulary import Channel, Topic
from eventkit.auth import Principal
from eventkit.errors import invalid, not_found
from intake.chat import repository
from intake.chat.domain import (
    Chat,
    ChatMessage,
    ChatNotActive,
    ChatNotWaiting,
    ChatState,
    ConsentRequest,
    LineUnavailable,
    MessageKind,
    Reply,
    consent_from_click,
    new_consent_request,
)
from intake.chat.language import Farewell
from intake.chat.line import LineMessenger
from intake.chat.outgoing import push, store_replies
from intake.chat.speech import consent_lines, farewell_for, farewell_lines, texts_for
from intake.consent.domain import ConsentItem
from intake.consultations import service as consultations
from intake.consultations.domain import Entry, NewConsultation, PersonalDataPurged
from intake.consultations.service import ConsultationView
from intake.risk.domain import judge
from intake.sealing import Sealer


@dataclass(frozen=True)
class ChatSummary:
    """A chat as counsellors see it, and its number of messages. The HTTP edge's answer lists what
    of it may leave the service (never the LINE user)."""

    chat: Chat
    messages: int


async def list_chats(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    state: ChatState,
    topic: Topic | None,
    mine: bool,
    limit: int,
    since: datetime | None = None,
) -> list[ChatSummary]:
    """Waiting chats (marked for acute risk first, then oldest first) for any counsellor; active
    or closed ones only the taker's."""
    taken_by = principal.subject if mine or state is not ChatState.WAITING else None
    async with pool.acquire() as conn:
        chats = await repository.list_chats(
            conn, state=state, topic=topic, taken_by=taken_by, limit=limit, since=since
        )
        counts = await repository.count_messages(conn, chat_ids=[c.id for c in chats])
    return [ChatSummary(c, counts.get(c.id, 0)) for c in chats]


async def _own_chat(conn: asyncpg.Connection, principal: Principal, chat_id: uuid.UUID) -> Chat:
    chat = await repository.get_chat(conn, chat_id=chat_id, for_update=True)
    if chat is None or chat.taken_by != principal.subject:
        raise not_found("chat taken by you")
    return chat


def _active(chat: Chat) -> None:
    if chat.state is not ChatState.ACTIVE:
        raise ChatNotActive(f"The chat is {chat.state}.")


async def take(pool: asyncpg.Pool, *, principal: Principal, chat_id: uuid.UUID, now: datetime) -> ChatSummary:
    async with pool.acquire() as conn, conn.transaction():
        chat = await repository.get_chat(conn, chat_id=chat_id, for_update=True)
        if chat is None:
            raise not_found("chat")
        if chat.taken_by == principal.subject and chat.state is ChatState.ACTIVE:
            taken = chat  # a retried take
        elif chat.state is not ChatState.WAITING:
            raise ChatNotWaiting(f"The chat is {chat.state}; only a waiting chat can be taken.")
        else:
            taken = replace(chat, state=ChatState.ACTIVE, taken_by=principal.subject, taken_at=now)
            await repository.update_chat(conn, chat=taken)
        counts = await repository.count_messages(conn, chat_ids=[chat.id])
    return ChatSummary(taken, counts.get(chat.id, 0))


async def read(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, chat_id: uuid.UUID
) -> tuple[ChatSummary, list[ChatMessage]]:
    async with pool.acquire() as conn, conn.transaction():
        chat = await _own_chat(conn, principal, chat_id)
        messages = await repository.list_messages(conn, sealer, chat_id=chat_id)
    return ChatSummary(chat, len(messages)), messages


async def send(
    pool: asyncpg.Pool,
    sealer: Sealer,
    messenger: LineMessenger,
    *,
    principal: Principal,
    chat_id: uuid.UUID,
    text: str,
    now: datetime,
) -> ChatMessage:
    """Stored, then pushed; LINE refusing it answers LineUnavailable (the row stays, failed)."""
    async with pool.acquire() as conn, conn.transaction():
        chat = await _own_chat(conn, principal, chat_id)
        _active(chat)
        messages = await store_replies(
            conn, sealer, chat_id=chat.id, replies=[Reply(text)], counsellor=principal.subject, now=now
        )
        await repository.update_chat(conn, chat=replace(chat, last_activity_at=now))
    await push(pool, sealer, messenger, chat=chat, messages=messages)
    return ChatMessage(
        messages[0][0], "counsellor", principal.subject, MessageKind.TEXT.value, text, "sent", now
    )


async def request_consent(
    pool: asyncpg.Pool,
    sealer: Sealer,
    messenger: LineMessenger,
    *,
    principal: Principal,
    chat_id: uuid.UUID,
    items: frozenset[ConsentItem],
    text_version: str,
    now: datetime,
) -> ConsentRequest:
    """Ask the person, with two buttons, to consent to sharing `items` (what, with whom, why, in
    the chat's language); the click is the consent record."""
    request = new_consent_request(items, text_version, by=principal.subject, at=now)
    async with pool.acquire() as conn, conn.transaction():
        chat = await _own_chat(conn, principal, chat_id)
        _active(chat)
        messages = await store_replies(
            conn,
            sealer,
            chat_id=chat.id,
            replies=[
                Reply("\n".join(consent_lines(texts_for(chat.language), items)), consent_request=request)
            ],
            counsellor=principal.subject,
            now=now,
        )
        await repository.update_chat(
            conn, chat=replace(chat, consent_requested=request, last_activity_at=now)
        )
    await push(pool, sealer, messenger, chat=chat, messages=messages)
    return request


def _recordable(chat: Chat) -> None:
    """A chat is recorded while it is active, or after the person left it or it was ended unrecorded."""
    if chat.state is ChatState.ACTIVE or chat.closed_reason in ("user_left", "counsellor_ended"):
        return
    raise ChatNotActive(f"The chat is {chat.state}.")


async def close_into_consultation(
    pool: asyncpg.Pool,
    sealer: Sealer,
    messenger: LineMessenger,
    *,
    principal: Principal,
    chat_id: uuid.UUID,
    new: NewConsultation,
    topic: Topic | None,
    now: datetime,
    end_chat: bool = True,
) -> tuple[ConsultationView, bool]:
    """Record the chat as a consultation (its transcript attached); (it, created?).

    The chat's topic stands unless the counsellor names another; the person's consent click is the
    consent record unless the counsellor records one. The outcome decides the closing message
    (a handoff's, or where to turn next). With `end_chat` the chat ends at once with it; without,
    the chat stays open until the counsellor ends it (`end`)."""
    async with pool.acquire() as conn, conn.transaction():
        chat = await _own_chat(conn, principal, chat_id)
        if chat.consultation_id is not None:
            earlier = await consultations.readable(conn, sealer, principal, chat.consultation_id)
            return await consultations.view(conn, earlier), False
        _recordable(chat)
        consent = new.consent or (consent_from_click(chat.consent) if chat.consent else None)
        chosen = topic or chat.topic
        if chosen is None:
            raise invalid("body.topic", "the chat has no topic yet: name one", "The consultation is invalid.")
        new = replace(new, channel=Channel.CHAT, topic=chosen, consent=consent)
        decision = judge(new.case_input())
        recorded = await consultations.insert_new(
            conn,
            sealer,
            principal=principal,
            new=new,
            decision=decision,
            entry=Entry(chat_id=chat.id),
            now=now,
        )
        farewell = farewell_for(decision.severity.final, decision.lawful_basis)
        recorded_chat = replace(
            chat, consultation_id=recorded.consultation.id, farewell=farewell.value, last_activity_at=now
        )
        await repository.update_chat(conn, chat=recorded_chat)
    if end_chat and recorded_chat.state is ChatState.ACTIVE:
        await end(pool, sealer, messenger, principal=principal, chat_id=chat_id, now=now)
    return recorded, True


async def end(
    pool: asyncpg.Pool,
    sealer: Sealer,
    messenger: LineMessenger,
    *,
    principal: Principal,
    chat_id: uuid.UUID,
    now: datetime,
) -> ChatSummary:
    """The counsellor ends the chat: the person gets the closing message in their language (a
    local organisation will call and roughly when, tonight's numbers; or where to turn next) and
    the chat cannot be written to any more. Ending an ended chat changes nothing."""
    async with pool.acquire() as conn, conn.transaction():
        chat = await _own_chat(conn, principal, chat_id)
        if chat.state is ChatState.CLOSED:
            counts = await repository.count_messages(conn, chat_ids=[chat.id])
            return ChatSummary(chat, counts.get(chat.id, 0))
        _active(chat)
        farewell = Farewell(chat.farewell) if chat.farewell else Farewell.NEXT_STEPS
        closed = replace(
            chat,
            state=ChatState.CLOSED,
            closed_at=now,
            closed_by=principal.subject,
            closed_reason="consultation" if chat.consultation_id else "counsellor_ended",
            farewell=farewell.value,
            last_activity_at=now,
        )
        await repository.update_chat(conn, chat=closed)
        lines = farewell_lines(texts_for(chat.language), farewell)
        messages = await store_replies(
            conn, sealer, chat_id=chat.id, replies=[Reply(line) for line in lines], counsellor=None, now=now
        )
        counts = await repository.count_messages(conn, chat_ids=[chat.id])
    # The chat stands closed if the farewell cannot be sent; its rows say it was not delivered.
    with contextlib.suppress(PersonalDataPurged, LineUnavailable):
        await push(pool, sealer, messenger, chat=closed, messages=messages)
    return ChatSummary(closed, counts.get(chat.id, 0))
