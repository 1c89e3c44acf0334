"""Chats: what each inbound LINE event does to a chat, what the bot answers, and the chat itself.
Pure: no I/O.

A user writes → a chat opens and the bot offers the topics as quick replies → the user picks one
→ the chat waits for a counsellor → a counsellor takes it, talks, may ask for consent (the user's
click is the consent record) → the counsellor closes it into a consultation.
"""

import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.vocabulary import Topic
from eventkit.build import from_attributes
from eventkit.errors import Conflict, Unavailable
from intake.consent.domain import ConsentDecision, ConsentInput, ConsentItem, ConsentMethod, RecipientKind

LINE_CHANNEL = "line"
# Web chats share the queue; only the person's side differs (no push, no user id).
WEB_CHANNEL = "web"

# Quick-reply labels: LINE allows 20 characters.
TOPIC_LABELS: dict[Topic, str] = {
    Topic.LONELY: "孤独・孤立の悩み",
    Topic.SUICIDAL: "死にたいほどつらい",
    Topic.POVERTY: "生活の困りごと",
    Topic.FOREIGN_LANG: "外国語での相談",
    Topic.WOMEN: "女性の悩み",
    Topic.SOGI: "性のあり方の悩み",
    Topic.SINGLE_MOTHER: "シングルマザー",
    Topic.UNDER18: "18歳以下の方",
    Topic.DISASTER: "被災している",
}

WELCOME = (
    "孤独・孤立相談(#9999)のチャット窓口です。送っていただいた内容は暗号化して保管し、相談員だけが読みます。"
)
CHOOSE_TOPIC = "ご相談のテーマを下のボタンから選んでください。"
QUEUED = "ありがとうございます。相談員におつなぎします。順番にお返事しますので、このままお待ちください。"
ALREADY_CHOSEN = "テーマは受け付けています。相談員からのお返事をお待ちください。"
CONSENT_THANKS = {
    ConsentDecision.GIVEN: "ご同意ありがとうございます。地域の支援団体におつなぎします。",
    ConsentDecision.REFUSED: "承知しました。ご本人の同意なく情報をお伝えすることはありません。",
}
CLOSING = "ご相談ありがとうございました。またいつでもご連絡ください。"


class ChatState(StrEnum):
    CHOOSING_TOPIC = "choosing_topic"
    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


class MessageKind(StrEnum):
    TEXT = "text"
    STICKER = "sticker"
    IMAGE = "image"
    OTHER = "other"


class ChatNotWaiting(Conflict):
    code = "chat_not_waiting"


class ChatNotActive(Conflict):
    code = "chat_not_active"


class ChatClosed(Conflict):
    code = "chat_closed"


class LineUnavailable(Unavailable):
    code = "line_unavailable"


# ---- inbound events, already taken out of the provider's format -----------------------------


@dataclass(frozen=True)
class Inbound:
    event_id: str  # the provider's webhook event id: a replay has the same one
    user_id: str
    at: datetime
    reply_token: str | None


@dataclass(frozen=True)
class Followed(Inbound):
    pass


@dataclass(frozen=True)
class Left(Inbound):
    pass


@dataclass(frozen=True)
class Wrote(Inbound):
    kind: MessageKind
    text: str | None
    message_id: str


@dataclass(frozen=True)
class Clicked(Inbound):
    data: str  # postback data we sent: 'topic=LONELY' or 'consent=given&request=<id>'


# ---- what the bot sends ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRequest:
    id: str
    items: frozenset[ConsentItem]
    text_version: str
    requested_by: str
    requested_at: datetime


@dataclass(frozen=True)
class Reply:
    text: str
    topic_choices: bool = False
    consent_request: ConsentRequest | None = None


@dataclass(frozen=True)
class ChatConsent:
    """The user's click on a consent request."""

    request_id: str
    decision: ConsentDecision
    items: frozenset[ConsentItem]
    text_version: str
    at: datetime


@dataclass(frozen=True)
class Plan:
    open_chat: bool = False
    choose_topic: Topic | None = None
    store: bool = False
    consent: ChatConsent | None = None
    close: bool = False
    replies: tuple[Reply, ...] = ()


_MENU = Reply(CHOOSE_TOPIC, topic_choices=True)


def topic_from_text(text: str | None) -> Topic | None:
    """A typed answer also counts when it is exactly a label or a topic code."""
    if not text:
        return None
    wanted = text.strip()
    for topic, label in TOPIC_LABELS.items():
        if wanted in (label, topic.value):
            return topic
    return None


def parse_click(data: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(data, keep_blank_values=True).items() if v}


def topic_click(topic: Topic) -> str:
    return urllib.parse.urlencode({"topic": topic.value})


def consent_click(request_id: str, decision: ConsentDecision) -> str:
    return urllib.parse.urlencode({"consent": decision.value, "request": request_id})


def new_consent_request(
    items: frozenset[ConsentItem], text_version: str, *, by: str, at: datetime
) -> ConsentRequest:
    return ConsentRequest(uuid.uuid4().hex[:16], items, text_version, by, at)


def plan(state: ChatState | None, event: Inbound, pending: ConsentRequest | None) -> Plan:
    """What an inbound event does. `state` is the user's open chat's state (None: no open chat)."""
    if isinstance(event, Left):
        return Plan(close=state is not None)
    if isinstance(event, Followed):
        if state is None:
            return Plan(open_chat=True, replies=(Reply(WELCOME), _MENU))
        return Plan(replies=(_MENU,) if state is ChatState.CHOOSING_TOPIC else ())
    if isinstance(event, Wrote):
        if state is None:
            return Plan(open_chat=True, store=True, replies=(Reply(WELCOME), _MENU))
        if state is ChatState.CHOOSING_TOPIC:
            topic = topic_from_text(event.text)
            if topic is not None:
                return Plan(choose_topic=topic, store=True, replies=(Reply(QUEUED),))
            return Plan(store=True, replies=(_MENU,))
        return Plan(store=True)
    if isinstance(event, Clicked):
        return _plan_click(state, event, pending)
    return Plan()


def _plan_click(state: ChatState | None, event: Clicked, pending: ConsentRequest | None) -> Plan:
    data = parse_click(event.data)
    if "topic" in data:
        try:
            topic = Topic(data["topic"])
        except ValueError:
            return Plan(replies=(_MENU,) if state in (None, ChatState.CHOOSING_TOPIC) else ())
        if state is None:
            return Plan(open_chat=True, choose_topic=topic, replies=(Reply(QUEUED),))
        if state is ChatState.CHOOSING_TOPIC:
            return Plan(choose_topic=topic, replies=(Reply(QUEUED),))
        return Plan(replies=(Reply(ALREADY_CHOSEN),))
    if "consent" in data and state is not None and pending is not None:
        if data.get("request") != pending.id:
            return Plan()  # a click on an older request: the newer one stands
        try:
            decision = ConsentDecision(data["consent"])
        except ValueError:
            return Plan()
        consent = ChatConsent(pending.id, decision, pending.items, pending.text_version, event.at)
        return Plan(consent=consent, replies=(Reply(CONSENT_THANKS[decision]),))
    return Plan()


def consent_from_click(click: ChatConsent) -> ConsentInput:
    """The user's click is the consent record of the consultation the chat is closed into."""
    return from_attributes(
        ConsentInput,
        click,
        recipient_kind=RecipientKind.LOCAL_SUPPORT_ORG,
        method=ConsentMethod.CHAT_CLICK,
        obtained_at=click.at,
    )


# ---- the chat and its messages --------------------------------------------------------------


@dataclass(frozen=True)
class Chat:
    id: uuid.UUID
    channel: str  # LINE_CHANNEL or WEB_CHANNEL
    user_ref: str | None  # a keyed pseudonym of the LINE user: one open chat per user
    user_enc: str | None  # the LINE user id, sealed: opened only to push to LINE
    state: ChatState
    topic: Topic | None
    started_at: datetime
    topic_chosen_at: datetime | None
    last_activity_at: datetime
    taken_by: str | None = None
    taken_at: datetime | None = None
    consent: ChatConsent | None = None
    consent_requested: ConsentRequest | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    closed_reason: str | None = None
    consultation_id: uuid.UUID | None = None
    purged_at: datetime | None = None
    language: str = "ja"  # the person's (the bot answers in it); LINE chats are Japanese
    acute_risk_at: datetime | None = None  # words of acute risk first seen: the queue takes it first
    farewell: str | None = None  # the closing message the recorded outcome calls for (a Farewell)


@dataclass(frozen=True)
class ChatMessage:
    id: uuid.UUID
    sender: str  # user | bot | counsellor
    counsellor: str | None
    kind: str
    text: str | None  # None once purged
    delivery: str  # received | pending | sent | failed
    at: datetime
    provider_message_id: str | None = None
