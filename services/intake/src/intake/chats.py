"""Chat use cases: LINE's webhook events on one side, the counsellor's chat API on the other.

Every message — the user's, the bot's, the counsellor's — is stored encrypted before anything is
sent, and sent only after its transaction committed: a message is never sent without its record.
"""

import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from contracts.vocabulary import Channel, Topic
from eventkit.auth import Principal
from eventkit.errors import ApiError, ErrorDetail, not_found
from intake import repository, sealing, service
from intake.chat import (
    CLOSING,
    ChatConsent,
    ChatState,
    ConsentRequest,
    Inbound,
    MessageKind,
    Reply,
    Wrote,
    new_consent_request,
    plan,
)
from intake.domain import (
    ConsentDecision,
    ConsentInput,
    ConsentItem,
    ConsentMethod,
    Consultation,
    Entry,
    NewConsultation,
    RecipientKind,
)
from intake.line import LineApiError, LineMessenger, render
from intake.sealing import Sealer
from intake.signatures import pseudonym

log = logging.getLogger(__name__)

USER_PURPOSE = "line-user"
# Web chats (intake.webchat) share the queue; only the push differs.
WEB_CHANNEL = "web"


@dataclass(frozen=True)
class Outgoing:
    """Messages to send once their rows have committed: a reply (token) or a push (user id)."""

    reply_token: str | None
    user_id: str | None
    messages: tuple[tuple[uuid.UUID, dict[str, Any]], ...]


# ---- JSON shapes of the chat's consent columns ----------------------------------------------


def _request_json(r: ConsentRequest) -> dict[str, Any]:
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


def _consent_json(c: ChatConsent) -> dict[str, Any]:
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


# ---- the webhook side -----------------------------------------------------------------------


async def _bot_messages(
    conn: asyncpg.Connection,
    sealer: Sealer,
    *,
    chat_id: uuid.UUID,
    replies: Sequence[Reply],
    counsellor: str | None,
    now: datetime,
) -> tuple[tuple[uuid.UUID, dict[str, Any]], ...]:
    out = []
    for reply in replies:
        message_id = uuid.uuid4()
        rendered = render(reply)
        await repository.insert_message(
            conn,
            message=repository.StoredMessage(
                id=message_id,
                chat_id=chat_id,
                sender="counsellor" if counsellor else "bot",
                counsellor=counsellor,
                kind=MessageKind.TEXT.value,
                text_enc=sealer.seal(sealing.MESSAGE_TEXT, message_id, str(rendered["text"])),
                provider_message_id=None,
                delivery="pending",
                at=now,
            ),
        )
        out.append((message_id, rendered))
    return tuple(out)


def _new_chat(sealer: Sealer, *, user_id: str, user_ref: str, now: datetime) -> repository.StoredChat:
    chat_id = uuid.uuid4()
    return repository.StoredChat(
        id=chat_id,
        channel="line",
        user_ref=user_ref,
        user_enc=sealer.seal(sealing.LINE_USER, chat_id, user_id),
        state=ChatState.CHOOSING_TOPIC.value,
        topic=None,
        started_at=now,
        topic_chosen_at=None,
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


async def receive(
    pool: asyncpg.Pool, sealer: Sealer, *, events: Sequence[Inbound], pseudonym_key: str, now: datetime
) -> list[Outgoing]:
    """Apply LINE's events, each in its own transaction; a replayed event id does nothing."""
    outgoing: list[Outgoing] = []
    for event in events:
        async with pool.acquire() as conn, conn.transaction():
            if not await repository.claim_line_event(conn, event_id=event.event_id, at=now):
                continue
            user_ref = pseudonym(pseudonym_key, event.user_id, purpose=USER_PURPOSE)
            chat = await repository.find_open_chat(conn, user_ref=user_ref)
            state = ChatState(chat.state) if chat else None
            step = plan(state, event, _request_of(chat.consent_requested) if chat else None)
            if step.open_chat and chat is None:
                chat = _new_chat(sealer, user_id=event.user_id, user_ref=user_ref, now=now)
                if not await repository.insert_chat(conn, chat=chat):
                    chat = await repository.find_open_chat(conn, user_ref=user_ref)
            if chat is None:
                continue
            changed = replace(chat, last_activity_at=now)
            if step.choose_topic is not None and changed.state == ChatState.CHOOSING_TOPIC.value:
                changed = replace(
                    changed, state=ChatState.WAITING.value, topic=step.choose_topic.value, topic_chosen_at=now
                )
            if step.consent is not None:
                changed = replace(changed, consent=_consent_json(step.consent))
            if step.close:
                changed = replace(
                    changed, state=ChatState.CLOSED.value, closed_at=now, closed_reason="user_left"
                )
            await repository.update_chat(conn, chat=changed)
            if step.store and isinstance(event, Wrote):
                message_id = uuid.uuid4()
                await repository.insert_message(
                    conn,
                    message=repository.StoredMessage(
                        id=message_id,
                        chat_id=chat.id,
                        sender="user",
                        counsellor=None,
                        kind=event.kind.value,
                        text_enc=sealer.seal(sealing.MESSAGE_TEXT, message_id, event.text),
                        provider_message_id=event.message_id,
                        delivery="received",
                        at=event.at,
                    ),
                )
            messages = await _bot_messages(
                conn, sealer, chat_id=chat.id, replies=step.replies, counsellor=None, now=now
            )
            if messages and event.reply_token:
                outgoing.append(Outgoing(event.reply_token, None, messages))
    return outgoing


async def deliver(pool: asyncpg.Pool, messenger: LineMessenger, outgoing: Sequence[Outgoing]) -> bool:
    """Send committed messages; each row says whether it went out. True if all did."""
    all_sent = True
    for out in outgoing:
        bodies = [body for _, body in out.messages]
        try:
            if out.reply_token is not None:
                await messenger.reply(out.reply_token, bodies)
            elif out.user_id is not None:
                await messenger.push(out.user_id, bodies, retry_key=out.messages[0][0])
            delivery = "sent"
        except LineApiError as error:
            log.warning("LINE did not take %d messages (status %s)", len(bodies), error.status)
            delivery = "failed"
            all_sent = False
        async with pool.acquire() as conn:
            for message_id, _ in out.messages:
                await repository.set_message_delivery(conn, message_id=message_id, delivery=delivery)
    return all_sent


# ---- the counsellor side --------------------------------------------------------------------


@dataclass(frozen=True)
class ChatSummary:
    id: uuid.UUID
    state: ChatState
    topic: Topic | None
    started_at: datetime
    topic_chosen_at: datetime | None
    taken_by: str | None
    taken_at: datetime | None
    last_activity_at: datetime
    messages: int
    consent: ChatConsent | None
    consent_requested: ConsentRequest | None
    consultation_id: uuid.UUID | None


@dataclass(frozen=True)
class ChatMessage:
    id: uuid.UUID
    sender: str
    counsellor: str | None
    kind: str
    text: str | None
    delivery: str
    at: datetime


def _summary(chat: repository.StoredChat, messages: int) -> ChatSummary:
    return ChatSummary(
        id=chat.id,
        state=ChatState(chat.state),
        topic=Topic(chat.topic) if chat.topic else None,
        started_at=chat.started_at,
        topic_chosen_at=chat.topic_chosen_at,
        taken_by=chat.taken_by,
        taken_at=chat.taken_at,
        last_activity_at=chat.last_activity_at,
        messages=messages,
        consent=_consent_of(chat.consent),
        consent_requested=_request_of(chat.consent_requested),
        consultation_id=chat.consultation_id,
    )


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
    """Waiting chats (oldest first) for any counsellor; active or closed ones only the taker's."""
    taken_by = principal.subject if mine or state is not ChatState.WAITING else None
    async with pool.acquire() as conn:
        chats = await repository.list_chats(
            conn,
            state=state.value,
            topic=topic.value if topic else None,
            taken_by=taken_by,
            limit=limit,
            since=since,
        )
        counts = await repository.count_messages(conn, chat_ids=[c.id for c in chats])
    return [_summary(c, counts.get(c.id, 0)) for c in chats]


async def _own_chat(
    conn: asyncpg.Connection, principal: Principal, chat_id: uuid.UUID
) -> repository.StoredChat:
    chat = await repository.get_chat(conn, chat_id=chat_id, for_update=True)
    if chat is None or chat.taken_by != principal.subject:
        raise not_found("chat taken by you")
    return chat


async def take(pool: asyncpg.Pool, *, principal: Principal, chat_id: uuid.UUID, now: datetime) -> ChatSummary:
    async with pool.acquire() as conn, conn.transaction():
        chat = await repository.get_chat(conn, chat_id=chat_id, for_update=True)
        if chat is None:
            raise not_found("chat")
        if chat.taken_by == principal.subject and chat.state == ChatState.ACTIVE.value:
            taken = chat  # a retried take
        elif chat.state != ChatState.WAITING.value:
            raise ApiError(
                409, "chat_not_waiting", f"The chat is {chat.state}; only a waiting chat can be taken."
            )
        else:
            taken = replace(chat, state=ChatState.ACTIVE.value, taken_by=principal.subject, taken_at=now)
            await repository.update_chat(conn, chat=taken)
        counts = await repository.count_messages(conn, chat_ids=[chat.id])
    return _summary(taken, counts.get(chat.id, 0))


async def read(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, chat_id: uuid.UUID
) -> tuple[ChatSummary, list[ChatMessage]]:
    async with pool.acquire() as conn, conn.transaction():
        chat = await _own_chat(conn, principal, chat_id)
        rows = await repository.list_messages(conn, chat_id=chat_id)
    messages = [
        ChatMessage(
            r.id,
            r.sender,
            r.counsellor,
            r.kind,
            sealer.open(sealing.MESSAGE_TEXT, r.id, r.text_enc),
            r.delivery,
            r.at,
        )
        for r in rows
    ]
    return _summary(chat, len(rows)), messages


async def _push(
    pool: asyncpg.Pool,
    sealer: Sealer,
    messenger: LineMessenger,
    *,
    chat: repository.StoredChat,
    messages: tuple[tuple[uuid.UUID, dict[str, Any]], ...],
) -> None:
    if chat.channel == WEB_CHANNEL:
        # The web chat's gateway fetches new messages itself: nothing to push, already "sent".
        async with pool.acquire() as conn:
            for message_id, _ in messages:
                await repository.set_message_delivery(conn, message_id=message_id, delivery="sent")
        return
    user_id = sealer.open(sealing.LINE_USER, chat.id, chat.user_enc)
    if user_id is None:
        raise ApiError(410, "personal_data_purged", "The chat's user was purged after its retention period.")
    if not await deliver(pool, messenger, [Outgoing(None, user_id, messages)]):
        raise ApiError(502, "line_unavailable", "LINE did not accept the message; it is stored as failed.")


def _active(chat: repository.StoredChat) -> None:
    if chat.state != ChatState.ACTIVE.value:
        raise ApiError(409, "chat_not_active", f"The chat is {chat.state}.")


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
    async with pool.acquire() as conn, conn.transaction():
        chat = await _own_chat(conn, principal, chat_id)
        _active(chat)
        messages = await _bot_messages(
            conn, sealer, chat_id=chat.id, replies=[Reply(text)], counsellor=principal.subject, now=now
        )
        await repository.update_chat(conn, chat=replace(chat, last_activity_at=now))
    await _push(pool, sealer, messenger, chat=chat, messages=messages)
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
    """Ask the user, with two buttons, to consent to sharing `items`; the click is the record."""
    request = new_consent_request(items, text_version, by=principal.subject, at=now)
    intro = "地域の支援団体へのおつなぎについて、ご同意をお願いします。"
    async with pool.acquire() as conn, conn.transaction():
        chat = await _own_chat(conn, principal, chat_id)
        _active(chat)
        messages = await _bot_messages(
            conn,
            sealer,
            chat_id=chat.id,
            replies=[Reply(intro, consent_request=request)],
            counsellor=principal.subject,
            now=now,
        )
        await repository.update_chat(
            conn, chat=replace(chat, consent_requested=_request_json(request), last_activity_at=now)
        )
    await _push(pool, sealer, messenger, chat=chat, messages=messages)
    return request


def consent_from_click(click: ChatConsent) -> ConsentInput:
    return ConsentInput(
        decision=click.decision,
        items=click.items,
        recipient_kind=RecipientKind.LOCAL_SUPPORT_ORG,
        method=ConsentMethod.CHAT_CLICK,
        text_version=click.text_version,
        obtained_at=click.at,
    )


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
) -> tuple[Consultation, bool]:
    """Record the chat as a consultation (its transcript attached) and end it; (it, created?).

    The chat's topic stands unless the counsellor names another; the user's consent click is the
    consent record unless the counsellor records one."""
    async with pool.acquire() as conn, conn.transaction():
        chat = await _own_chat(conn, principal, chat_id)
        if chat.state == ChatState.CLOSED.value and chat.consultation_id is not None:
            stored = await repository.get_consultation(conn, consultation_id=chat.consultation_id)
            assert stored is not None
            return service.unseal(sealer, stored), False
        _active(chat)
        click = _consent_of(chat.consent)
        consent = new.consent or (consent_from_click(click) if click else None)
        chosen = topic or (Topic(chat.topic) if chat.topic else None)
        if chosen is None:
            raise ApiError(
                422,
                "validation_failed",
                "The consultation is invalid.",
                details=[ErrorDetail(field="body.topic", reason="the chat has no topic yet: name one")],
            )
        new = replace(new, channel=Channel.CHAT, topic=chosen, consent=consent)
        decision = service.judge_case(service.case_input(new))
        consultation = await service.insert_new(
            conn,
            sealer,
            principal=principal,
            new=new,
            decision=decision,
            entry=Entry(chat_id=chat.id),
            now=now,
        )
        closed = replace(
            chat,
            state=ChatState.CLOSED.value,
            closed_at=now,
            closed_by=principal.subject,
            closed_reason="consultation",
            consultation_id=consultation.id,
            last_activity_at=now,
        )
        await repository.update_chat(conn, chat=closed)
        messages = await _bot_messages(
            conn, sealer, chat_id=chat.id, replies=[Reply(CLOSING)], counsellor=None, now=now
        )
    # The consultation stands if the farewell cannot be sent; its row says it was not delivered.
    with contextlib.suppress(ApiError):
        await _push(pool, sealer, messenger, chat=closed, messages=messages)
    return consultation, True
