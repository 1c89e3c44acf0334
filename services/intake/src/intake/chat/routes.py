"""chat's HTTP edge for counsellors: the queue of LINE and web chats, taking, answering, asking
for consent, and closing a chat into a consultation."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from contracts.vocabulary import Channel, Topic
from eventkit.created import answer_created
from eventkit.deps import Counsellor, Pool
from eventkit.routing import api_router
from eventkit.text import Text
from intake.chat import service
from intake.chat.domain import ChatState
from intake.consent.domain import CONSENT_TEXTS, CURRENT_CONSENT_TEXT, ConsentDecision, ConsentItem
from intake.consultations.schemas import CaseDetailsIn, ConsultationOut, SortedConsentItems
from intake.deps import Messenger, Now, Seal

router = api_router(tags=["chat"])


class ChatConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    decision: ConsentDecision
    items: SortedConsentItems
    text_version: str
    at: datetime


class ConsentRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    items: SortedConsentItems
    text_version: str
    requested_by: str
    requested_at: datetime


class ChatSummaryOut(BaseModel):
    id: uuid.UUID
    channel: str = Field(description="line | web")
    language: str = Field(description="The person's language (ISO 639-1; Filipino is tl)")
    acute_risk_at: datetime | None = Field(description="When words of acute risk were first written")
    farewell: str | None = Field(description="handoff_s4 | handoff_s3 | handoff_s2 | next_steps")
    closed_reason: str | None = Field(description="consultation | counsellor_ended | user_left")
    state: ChatState
    topic: Topic | None
    started_at: datetime
    topic_chosen_at: datetime | None
    taken_by: str | None
    taken_at: datetime | None
    last_activity_at: datetime
    messages: int
    consent: ChatConsentOut | None
    consent_requested: ConsentRequestOut | None
    consultation_id: uuid.UUID | None

    @classmethod
    def of(cls, summary: service.ChatSummary, **more: Any) -> Self:
        """The chat's own fields and its number of messages; `more` for a subclass's fields."""
        return cls.model_validate({**vars(summary.chat), "messages": summary.messages, **more})


class ChatMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sender: str = Field(description="user | bot | counsellor")
    counsellor: str | None
    kind: str
    text: str | None
    delivery: str = Field(description="received | pending | sent | failed")
    at: datetime


class ChatOut(ChatSummaryOut):
    transcript: list[ChatMessageOut]


@router.get("/chats", summary="Chats by state: waiting ones (oldest first) for anyone, others only yours")
async def list_chats(
    principal: Counsellor,
    pool: Pool,
    state: ChatState = ChatState.WAITING,
    topic: Topic | None = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    since: Annotated[
        AwareDatetime | None, Query(description="Only chats queued (or opened) at or after this time")
    ] = None,
) -> list[ChatSummaryOut]:
    found = await service.list_chats(
        pool, principal=principal, state=state, topic=topic, mine=mine, limit=limit, since=since
    )
    return [ChatSummaryOut.of(s) for s in found]


@router.post("/chats/{chat_id}/take", summary="Take a waiting chat")
async def take_chat(chat_id: uuid.UUID, principal: Counsellor, pool: Pool, now: Now) -> ChatSummaryOut:
    return ChatSummaryOut.of(await service.take(pool, principal=principal, chat_id=chat_id, now=now))


@router.get("/chats/{chat_id}", summary="A chat you took, with its transcript")
async def read_chat(chat_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal) -> ChatOut:
    summary, messages = await service.read(pool, sealer, principal=principal, chat_id=chat_id)
    return ChatOut.of(summary, transcript=messages)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=5000)


@router.post("/chats/{chat_id}/messages", status_code=201)
async def send_message(
    chat_id: uuid.UUID,
    body: MessageIn,
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    messenger: Messenger,
    now: Now,
) -> ChatMessageOut:
    """Reply in a chat you took

    Stored encrypted, then pushed to LINE; 502 if LINE refuses (the row stays, marked failed).
    """
    message = await service.send(
        pool, sealer, messenger, principal=principal, chat_id=chat_id, text=body.text, now=now
    )
    return ChatMessageOut.model_validate(message)


class ConsentRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ConsentItem] = Field(min_length=1, max_length=len(ConsentItem))
    text_version: str = Field(default=CURRENT_CONSENT_TEXT, max_length=40)

    @field_validator("text_version")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CONSENT_TEXTS:
            raise ValueError(f"unknown consent text; one of {', '.join(sorted(CONSENT_TEXTS))}")
        return value


@router.post(
    "/chats/{chat_id}/consent-request",
    status_code=201,
    summary="Ask the user for consent with two buttons; the click becomes the consent record",
)
async def request_consent(
    chat_id: uuid.UUID,
    body: ConsentRequestIn,
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    messenger: Messenger,
    now: Now,
) -> ConsentRequestOut:
    request = await service.request_consent(
        pool,
        sealer,
        messenger,
        principal=principal,
        chat_id=chat_id,
        items=frozenset(body.items),
        text_version=body.text_version,
        now=now,
    )
    return ConsentRequestOut.model_validate(request)


class ChatCloseIn(CaseDetailsIn):
    topic: Topic | None = Field(default=None, description="Default: the topic the user chose")
    end_chat: bool = Field(
        default=True,
        description="End the chat with its closing message at once; false: record only, end it later",
    )


@router.post("/chats/{chat_id}/close", status_code=201)
async def close_chat(
    chat_id: uuid.UUID,
    body: ChatCloseIn,
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    messenger: Messenger,
    now: Now,
    response: Response,
) -> ConsultationOut:
    """Close a chat you took into a consultation (its transcript attached)

    The body is a consultation's; channel is chat, the topic defaults to the user's choice and the user's
    consent click is the consent record unless `consent` is given. A repeat answers 200 with the same
    consultation.
    """
    view, created = await service.close_into_consultation(
        pool,
        sealer,
        messenger,
        principal=principal,
        chat_id=chat_id,
        # The topic here is a stand-in: the service puts the chat's chosen one unless one is named.
        new=body.details(channel=Channel.CHAT, topic=body.topic or Topic.LONELY),
        topic=body.topic,
        now=now,
        end_chat=body.end_chat,
    )
    answer_created(response, created=created, location=f"/v1/consultations/{view.consultation.id}")
    return ConsultationOut.of(view)


@router.post("/chats/{chat_id}/end")
async def end_chat(
    chat_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal, messenger: Messenger, now: Now
) -> ChatSummaryOut:
    """End a chat you took, with the closing message its recorded outcome calls for

    A recorded chat that opened a handoff tells the person a local organisation will contact them and
    roughly when, and tonight's emergency numbers; otherwise where to turn next. Ending an ended chat
    changes nothing.
    """
    ended = await service.end(pool, sealer, messenger, principal=principal, chat_id=chat_id, now=now)
    return ChatSummaryOut.of(ended)
