"""The LINE Messaging API: its webhook's shape, our messages in its format, and the outbound client.

The client is an interface (`LineMessenger`); `HttpLineMessenger` talks to the API at a
configurable base URL — https://api.line.me in production, a local stand-in in tests and in the
local stack, never the internet from a developer's machine.
"""

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field

from intake.chat.domain import (
    TOPIC_LABELS,
    Clicked,
    Followed,
    Inbound,
    Left,
    MessageKind,
    Reply,
    Wrote,
    consent_click,
    topic_click,
)
from intake.consent.domain import CONSENT_TEXTS, ConsentDecision

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.line.me"


# ---- the webhook (https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class LineSource(_Model):
    type: str
    user_id: str | None = Field(default=None, alias="userId")


class LineMessage(_Model):
    type: str
    id: str
    text: str | None = None


class LinePostback(_Model):
    data: str


class LineEvent(_Model):
    type: str
    webhook_event_id: str = Field(alias="webhookEventId", min_length=1, max_length=100)
    timestamp: int
    mode: str = "active"
    source: LineSource | None = None
    reply_token: str | None = Field(default=None, alias="replyToken")
    message: LineMessage | None = None
    postback: LinePostback | None = None


class LineWebhook(_Model):
    destination: str | None = None
    events: list[LineEvent] = Field(max_length=200)


_KINDS = {"text": MessageKind.TEXT, "sticker": MessageKind.STICKER, "image": MessageKind.IMAGE}


def to_inbound(event: LineEvent) -> Inbound | None:
    """Our view of one event; None for what a one-to-one consultation chat does not use
    (groups, rooms, standby mode, read receipts …)."""
    if event.mode != "active" or event.source is None or event.source.type != "user":
        return None
    user_id = event.source.user_id
    if not user_id:
        return None
    at = datetime.fromtimestamp(event.timestamp / 1000, UTC)
    event_id, token = event.webhook_event_id, event.reply_token
    if event.type == "follow":
        return Followed(event_id, user_id, at, token)
    if event.type == "unfollow":
        return Left(event_id, user_id, at, token)
    if event.type == "message" and event.message is not None:
        kind = _KINDS.get(event.message.type, MessageKind.OTHER)
        text = event.message.text if kind is MessageKind.TEXT else None
        return Wrote(event_id, user_id, at, token, kind=kind, text=text, message_id=event.message.id)
    if event.type == "postback" and event.postback is not None:
        return Clicked(event_id, user_id, at, token, data=event.postback.data)
    return None


# ---- our messages ---------------------------------------------------------------------------


def _postback_item(label: str, data: str, display: str) -> dict[str, Any]:
    return {
        "type": "action",
        "action": {"type": "postback", "label": label[:20], "data": data, "displayText": display},
    }


def render(reply: Reply) -> dict[str, Any]:
    """One LINE text message, with topic or consent quick replies when the reply offers them."""
    message: dict[str, Any] = {"type": "text", "text": reply.text}
    items: list[dict[str, Any]] = []
    if reply.topic_choices:
        items = [_postback_item(label, topic_click(topic), label) for topic, label in TOPIC_LABELS.items()]
    elif reply.consent_request is not None:
        request = reply.consent_request
        message["text"] = f"{reply.text}\n\n{CONSENT_TEXTS[request.text_version]}"
        items = [
            _postback_item("同意する", consent_click(request.id, ConsentDecision.GIVEN), "同意します"),
            _postback_item("同意しない", consent_click(request.id, ConsentDecision.REFUSED), "同意しません"),
        ]
    if items:
        message["quickReply"] = {"items": items}
    return message


# ---- the outbound client --------------------------------------------------------------------


class LineApiError(Exception):
    def __init__(self, status: int | None, what: str) -> None:
        super().__init__(f"LINE {what} failed ({status or 'no response'})")
        self.status = status


class LineMessenger(Protocol):
    async def reply(self, reply_token: str, messages: Sequence[dict[str, Any]]) -> None: ...

    async def push(self, to: str, messages: Sequence[dict[str, Any]], *, retry_key: uuid.UUID) -> None: ...


class HttpLineMessenger:
    """The Messaging API over HTTPS. One short-lived connection per call: chats are few and slow."""

    def __init__(self, base_url: str, access_token: str, *, timeout_s: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._access_token = access_token
        self._timeout_s = timeout_s

    async def _post(self, path: str, body: dict[str, Any], headers: dict[str, str], what: str) -> int:
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.post(
                    f"{self._base_url}{path}",
                    json=body,
                    headers={"Authorization": f"Bearer {self._access_token}", **headers},
                )
        except httpx.HTTPError as error:
            raise LineApiError(None, what) from error
        return response.status_code

    async def reply(self, reply_token: str, messages: Sequence[dict[str, Any]]) -> None:
        body = {"replyToken": reply_token, "messages": list(messages)[:5]}
        status = await self._post("/v2/bot/message/reply", body, {}, "reply")
        if status >= 300:
            raise LineApiError(status, "reply")

    async def push(self, to: str, messages: Sequence[dict[str, Any]], *, retry_key: uuid.UUID) -> None:
        body = {"to": to, "messages": list(messages)[:5]}
        # The retry key makes a repeated push after a timeout harmless: LINE answers 409.
        status = await self._post("/v2/bot/message/push", body, {"X-Line-Retry-Key": str(retry_key)}, "push")
        if status >= 300 and status != 409:
            raise LineApiError(status, "push")
