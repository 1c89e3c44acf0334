"""chat's HTTP edge for the web chat's gateway (the web package), on behalf of anonymous people.

Only a token with the `channel` role may call it: the web package's service credential, never
a person's or a counsellor's. The person's side only; counsellors use the chat API they use for
LINE (`/v1/chats`), where web chats wait in the same queue.
"""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.vocabulary import Topic
from eventkit.auth import Principal, Role, require_role
from eventkit.deps import Pool
from eventkit.ratelimit import Limit, client_address, rate_limited
from eventkit.routing import api_router
from eventkit.text import MAX_POSITION, Line, Text
from intake.chat import web_service
from intake.chat.domain import ChatState
from intake.consent.domain import ConsentDecision
from intake.deps import Now, Seal

router = api_router("/v1/web-chats", tags=["web chat"])

# Declared here rather than in deps.py: only this router admits the gateway's role.
Gateway = Annotated[Principal, require_role(Role.CHANNEL)]


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    language: str = Field(default="ja", pattern=r"^[a-z]{2}$", description="ja en zh ko vi pt es tl ne")


class StartedOut(BaseModel):
    id: uuid.UUID


class PersonMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int = Field(description="1, 2, … in the chat's order; ask with `after` for newer ones")
    sender: str = Field(description="user | bot | counsellor")
    text: str | None
    at: datetime


class ConsentQuestionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    lines: list[str] = Field(description="What is shared, with whom, why, and the question")
    agree: str
    disagree: str


class PersonViewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    state: ChatState
    topic: Topic | None
    language: str
    queue_position: int | None = Field(description="While waiting: 1 is next")
    wait_minutes: int | None = Field(description="While waiting: what recent people waited (median)")
    acute_risk: bool = Field(description="Words of acute risk were written: show the crisis numbers")
    consent_question: ConsentQuestionOut | None
    closed_reason: str | None
    messages: list[PersonMessageOut]


class ConsentAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: Line = Field(min_length=1, max_length=40)
    decision: ConsentDecision


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=2000)


def _person(request: Request) -> str:
    """The person's address, as the gateway (the only caller admitted) forwards it."""
    return request.headers.get(CLIENT_HEADER) or client_address(request)


CLIENT_HEADER = "tsunagu-client"
# Anonymous people: a few chats from one address, then one every 30 s; a burst of messages per
# chat, then one a second (nobody types faster; a script does).
_STARTS = rate_limited("web-chat-start", Limit(burst=5, per_s=1 / 30), _person)
_MESSAGES = rate_limited("web-chat-message", Limit(burst=10, per_s=1), lambda r: r.path_params["chat_id"])


@router.post("", status_code=201, summary="Open a web chat on a topic", dependencies=[_STARTS])
async def start(body: StartIn, _: Gateway, pool: Pool, sealer: Seal, now: Now) -> StartedOut:
    chat_id = await web_service.start(pool, sealer, topic=body.topic, language=body.language, now=now)
    return StartedOut(id=chat_id)


@router.get("/{chat_id}", summary="The person's view: state, place, messages")
async def read(
    chat_id: uuid.UUID,
    _: Gateway,
    pool: Pool,
    sealer: Seal,
    now: Now,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="Only messages after this seq")] = 0,
) -> PersonViewOut:
    view = await web_service.read(pool, sealer, chat_id=chat_id, after=after, now=now)
    return PersonViewOut.model_validate(view)


@router.post("/{chat_id}/messages", status_code=204, summary="The person writes", dependencies=[_MESSAGES])
async def write(chat_id: uuid.UUID, body: TextIn, _: Gateway, pool: Pool, sealer: Seal, now: Now) -> Response:
    await web_service.write(pool, sealer, chat_id=chat_id, text=body.text, now=now)
    return Response(status_code=204)


@router.post("/{chat_id}/consent", status_code=204, summary="The person answers the consent question")
async def answer_consent(
    chat_id: uuid.UUID, body: ConsentAnswerIn, _: Gateway, pool: Pool, sealer: Seal, now: Now
) -> Response:
    await web_service.answer_consent(
        pool, sealer, chat_id=chat_id, request_id=body.request, decision=body.decision, now=now
    )
    return Response(status_code=204)


@router.post("/{chat_id}/leave", status_code=204, summary="The person ends the chat, at any time")
async def leave(chat_id: uuid.UUID, _: Gateway, pool: Pool, sealer: Seal, now: Now) -> Response:
    await web_service.leave(pool, sealer, chat_id=chat_id, now=now)
    return Response(status_code=204)
