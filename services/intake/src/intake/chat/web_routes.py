"""chat's HTTP edge for the web chat's gateway (the web package), on behalf of anonymous people.

Only a token with the `channel` role may call it: the web package's service credential, never
a person's or a counsellor's. The person's side only; counsellors use the chat API they use for
LINE (`/v1/chats`), where web chats wait in the same queue.
"""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.vocabulary import Topic
from eventkit.auth import Principal, Role, require_role
from eventkit.deps import Pool
from eventkit.errors import ERROR_RESPONSES
from intake.chat import web_service
from intake.chat.domain import ChatState
from intake.deps import Now, Seal

router = APIRouter(prefix="/v1/web-chats", tags=["web chat"], responses=ERROR_RESPONSES)

# Declared here rather than in deps.py: only this router admits the gateway's role.
Gateway = Annotated[Principal, require_role(Role.CHANNEL)]


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    language: str = Field(default="ja", pattern=r"^[a-z]{2}$")


class StartedOut(BaseModel):
    id: uuid.UUID


class PersonMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int = Field(description="1, 2, … in the chat's order; ask with `after` for newer ones")
    sender: str = Field(description="user | bot | counsellor")
    text: str | None
    at: datetime


class PersonViewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    state: ChatState
    topic: Topic | None
    queue_position: int | None = Field(description="While waiting: 1 is next")
    messages: list[PersonMessageOut]


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)


@router.post("", status_code=201, response_model=StartedOut, summary="Open a web chat on a topic")
async def start(body: StartIn, _: Gateway, pool: Pool, sealer: Seal, now: Now) -> StartedOut:
    return StartedOut(id=await web_service.start(pool, sealer, topic=body.topic, now=now))


@router.get("/{chat_id}", response_model=PersonViewOut, summary="The person's view: state, place, messages")
async def read(
    chat_id: uuid.UUID,
    _: Gateway,
    pool: Pool,
    sealer: Seal,
    after: Annotated[int, Query(ge=0, description="Only messages after this seq")] = 0,
) -> PersonViewOut:
    return PersonViewOut.model_validate(await web_service.read(pool, sealer, chat_id=chat_id, after=after))


@router.post("/{chat_id}/messages", status_code=204, summary="The person writes")
async def write(chat_id: uuid.UUID, body: TextIn, _: Gateway, pool: Pool, sealer: Seal, now: Now) -> Response:
    await web_service.write(pool, sealer, chat_id=chat_id, text=body.text, now=now)
    return Response(status_code=204)


@router.post("/{chat_id}/leave", status_code=204, summary="The person ends the chat")
async def leave(chat_id: uuid.UUID, _: Gateway, pool: Pool, now: Now) -> Response:
    await web_service.leave(pool, chat_id=chat_id, now=now)
    return Response(status_code=204)
