"""Messages out of a chat: stored (encrypted) in the caller's transaction, sent only after it
committed, so a message is never sent without its record; each row then says whether it went out."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from intake import sealing
from intake.chat import repository
from intake.chat.domain import WEB_CHANNEL, Chat, ChatMessage, LineUnavailable, MessageKind, Reply
from intake.chat.line import LineApiError, LineMessenger, render
from intake.consultations.domain import PersonalDataPurged
from intake.sealing import Sealer

log = logging.getLogger(__name__)

Rendered = tuple[tuple[uuid.UUID, dict[str, Any]], ...]


@dataclass(frozen=True)
class Outgoing:
    """Messages to send once their rows have committed: a reply (token) or a push (user id)."""

    reply_token: str | None
    user_id: str | None
    messages: Rendered


async def store_replies(
    conn: asyncpg.Connection,
    sealer: Sealer,
    *,
    chat_id: uuid.UUID,
    replies: Sequence[Reply],
    counsellor: str | None,
    now: datetime,
) -> Rendered:
    """The bot's (or a counsellor's) replies as pending rows, and their LINE rendering."""
    out = []
    for reply in replies:
        rendered = render(reply)
        message = ChatMessage(
            id=uuid.uuid4(),
            sender="counsellor" if counsellor else "bot",
            counsellor=counsellor,
            kind=MessageKind.TEXT.value,
            text=str(rendered["text"]),
            delivery="pending",
            at=now,
        )
        await repository.insert_message(conn, sealer, chat_id=chat_id, message=message)
        out.append((message.id, rendered))
    return tuple(out)


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


async def push(
    pool: asyncpg.Pool, sealer: Sealer, messenger: LineMessenger, *, chat: Chat, messages: Rendered
) -> None:
    """A counsellor's committed messages to the person: pushed to LINE, or for a web chat marked
    sent (its gateway fetches what is new)."""
    if chat.channel == WEB_CHANNEL:
        async with pool.acquire() as conn:
            for message_id, _ in messages:
                await repository.set_message_delivery(conn, message_id=message_id, delivery="sent")
        return
    user_id = sealer.open(sealing.LINE_USER, chat.id, chat.user_enc)
    if user_id is None:
        raise PersonalDataPurged("The chat's user was purged after its retention period.")
    if not await deliver(pool, messenger, [Outgoing(None, user_id, messages)]):
        raise LineUnavailable("LINE did not accept the message; it is stored as failed.")
