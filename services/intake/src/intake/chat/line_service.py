"""chat's use cases for LINE's webhook: each event applied in its own transaction, the bot's
replies stored with it and sent after it committed."""

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import asyncpg

from intake import sealing
from intake.chat import repository
from intake.chat.domain import LINE_CHANNEL, Chat, ChatMessage, ChatState, Inbound, Reply, Wrote, plan
from intake.chat.language import has_acute_risk
from intake.chat.outgoing import Outgoing, store_replies
from intake.chat.speech import texts_for
from intake.sealing import Sealer
from intake.signatures import pseudonym

USER_PURPOSE = "line-user"


def _new_chat(sealer: Sealer, *, user_id: str, user_ref: str, now: datetime) -> Chat:
    chat_id = uuid.uuid4()
    return Chat(
        id=chat_id,
        channel=LINE_CHANNEL,
        user_ref=user_ref,
        user_enc=sealer.seal(sealing.LINE_USER, chat_id, user_id),
        state=ChatState.CHOOSING_TOPIC,
        topic=None,
        started_at=now,
        topic_chosen_at=None,
        last_activity_at=now,
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
            step = plan(chat.state if chat else None, event, chat.consent_requested if chat else None)
            if step.open_chat and chat is None:
                chat = _new_chat(sealer, user_id=event.user_id, user_ref=user_ref, now=now)
                if not await repository.insert_chat(conn, chat=chat):
                    chat = await repository.find_open_chat(conn, user_ref=user_ref)
            if chat is None:
                continue
            changed = replace(chat, last_activity_at=now)
            if step.choose_topic is not None and changed.state is ChatState.CHOOSING_TOPIC:
                changed = replace(
                    changed, state=ChatState.WAITING, topic=step.choose_topic, topic_chosen_at=now
                )
            if step.consent is not None:
                changed = replace(changed, consent=step.consent)
            replies = list(step.replies)
            if isinstance(event, Wrote) and changed.acute_risk_at is None and has_acute_risk(event.text):
                # Words of acute risk: the crisis numbers at once, and the queue takes the chat first.
                changed = replace(changed, acute_risk_at=now)
                replies.append(Reply(texts_for(changed.language).crisis))
            if step.close:
                changed = replace(changed, state=ChatState.CLOSED, closed_at=now, closed_reason="user_left")
            await repository.update_chat(conn, chat=changed)
            if step.store and isinstance(event, Wrote):
                message = ChatMessage(
                    id=uuid.uuid4(),
                    sender="user",
                    counsellor=None,
                    kind=event.kind.value,
                    text=event.text,
                    delivery="received",
                    at=event.at,
                    provider_message_id=event.message_id,
                )
                await repository.insert_message(conn, sealer, chat_id=chat.id, message=message)
            messages = await store_replies(
                conn, sealer, chat_id=chat.id, replies=replies, counsellor=None, now=now
            )
            if messages and event.reply_token:
                outgoing.append(Outgoing(event.reply_token, None, messages))
    return outgoing
