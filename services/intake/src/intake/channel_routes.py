"""intake's HTTP edge for the channels' people: operators' voice menus, counsellors' call legs and chats."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from contracts.vocabulary import Channel, Topic
from eventkit.errors import ERROR_RESPONSES, not_found
from intake import chats, phone, service
from intake.chat import ChatConsent, ChatState, ConsentRequest
from intake.deps import Channels, Counsellor, CounsellorOrOperator, Messenger, Now, Operator, Pool, Seal
from intake.domain import CONSENT_TEXTS, CURRENT_CONSENT_TEXT, ConsentDecision, ConsentItem
from intake.menu import Desk, Hours, MenuOption, VoiceMenu, Window, format_hhmm, parse_hhmm, to_e164
from intake.responses import ConsultationOut
from intake.routes import CaseDetailsIn

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


# ---- voice menus (operators) ----------------------------------------------------------------


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(examples=["10:00"], description="Japan time, HH:MM")
    end: str = Field(
        examples=["22:00"], description="HH:MM, up to 24:00; at or before start runs past midnight"
    )
    weekdays: list[int] = Field(default=[], description="ISO weekdays 1 (Mon) – 7 (Sun); empty: every day")

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(not 1 <= d <= 7 for d in value):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
        return sorted(set(value))


class HoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    always: bool = False
    windows: list[WindowIn] = Field(default=[], max_length=20)


class DeskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID = Field(description="The partner organisation answering this desk")
    number: str = Field(max_length=20, description="Its phone number, 0… or +81…")
    hours: HoursIn

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        return to_e164(value)


class OptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digit: str = Field(pattern=r"^[0-9]$")
    topic: Topic
    label: str = Field(min_length=1, max_length=60, description="Read out, e.g. 孤独・孤立に悩んでいる方")
    desk: DeskIn | None = Field(default=None, description="None: callers go to the fallback number")


class VoiceMenuIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["gw-2026", "nenmatsu-2026"])
    greeting: str = Field(min_length=1, max_length=500, examples=["孤独・孤立相談ダイヤルです。"])
    fallback_number: str | None = Field(default=None, max_length=20, description="Default: 0120-494949")
    options: list[OptionIn] = Field(min_length=1, max_length=10)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    @field_validator("fallback_number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        return to_e164(value) if value else None

    def to_domain(self) -> phone.MenuDraft:
        options = tuple(
            MenuOption(
                digit=o.digit,
                topic=o.topic,
                label=o.label,
                desk=None
                if o.desk is None
                else Desk(
                    o.desk.organisation_id,
                    o.desk.number,
                    Hours(
                        o.desk.hours.always,
                        tuple(
                            Window(parse_hhmm(w.start), parse_hhmm(w.end), frozenset(w.weekdays))
                            for w in o.desk.hours.windows
                        ),
                    ),
                ),
            )
            for o in self.options
        )
        return phone.MenuDraft(
            self.campaign, self.greeting, self.fallback_number, options, self.starts_at, self.ends_at
        )


class VoiceMenuOut(BaseModel):
    id: uuid.UUID
    campaign: str
    version: int
    greeting: str
    prompt: str = Field(description="What callers hear")
    fallback_number: str
    options: list[OptionIn]
    starts_at: datetime | None
    ends_at: datetime | None
    created_by: str
    created_at: datetime
    active: bool
    activated_at: datetime | None = None

    @classmethod
    def of(cls, m: VoiceMenu, *, active: bool, activated_at: datetime | None = None) -> "VoiceMenuOut":
        options = [
            OptionIn(
                digit=o.digit,
                topic=o.topic,
                label=o.label,
                desk=None
                if o.desk is None
                else DeskIn(
                    organisation_id=o.desk.organisation_id,
                    number=o.desk.number,
                    hours=HoursIn(
                        always=o.desk.hours.always,
                        windows=[
                            WindowIn(
                                start=format_hhmm(w.start),
                                end=format_hhmm(w.end),
                                weekdays=sorted(w.weekdays),
                            )
                            for w in o.desk.hours.windows
                        ],
                    ),
                ),
            )
            for o in m.options
        ]
        return cls(
            id=m.id,
            campaign=m.campaign,
            version=m.version,
            greeting=m.greeting,
            prompt=m.prompt(),
            fallback_number=m.fallback_number,
            options=options,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            created_by=m.created_by,
            created_at=m.created_at,
            active=active,
            activated_at=activated_at,
        )


@router.post(
    "/voice-menus",
    status_code=201,
    response_model=VoiceMenuOut,
    tags=["voice menu"],
    summary="Create a new version of a campaign's voice menu",
    description="Versions are numbered per campaign and never change; activate one to put it on the line.",
)
async def create_menu(
    body: VoiceMenuIn, principal: Operator, pool: Pool, channels: Channels, now: Now, response: Response
) -> VoiceMenuOut:
    menu = await phone.create_menu(
        pool, principal=principal, draft=body.to_domain(), default_fallback=channels.fallback_number, now=now
    )
    response.headers["Location"] = f"/v1/voice-menus/{menu.id}"
    return VoiceMenuOut.of(menu, active=False)


@router.get(
    "/voice-menus/active", response_model=VoiceMenuOut, tags=["voice menu"], summary="The menu callers hear"
)
async def active_menu(principal: CounsellorOrOperator, pool: Pool) -> VoiceMenuOut:
    found = await phone.active_menu(pool)
    if found is None:
        raise not_found("active voice menu")
    return VoiceMenuOut.of(found[0], active=True, activated_at=found[1])


@router.get(
    "/voice-menus",
    response_model=list[VoiceMenuOut],
    tags=["voice menu"],
    summary="Menu versions, newest first",
)
async def list_menus(
    principal: CounsellorOrOperator,
    pool: Pool,
    campaign: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[VoiceMenuOut]:
    menus = await phone.list_menus(pool, campaign=campaign, limit=limit)
    active = await phone.active_menu(pool)
    active_id = active[0].id if active else None
    return [VoiceMenuOut.of(m, active=m.id == active_id) for m in menus]


@router.get(
    "/voice-menus/{menu_id}", response_model=VoiceMenuOut, tags=["voice menu"], summary="One menu version"
)
async def get_menu(menu_id: uuid.UUID, principal: CounsellorOrOperator, pool: Pool) -> VoiceMenuOut:
    menu = await phone.get_menu(pool, menu_id=menu_id)
    active = await phone.active_menu(pool)
    return VoiceMenuOut.of(menu, active=active is not None and active[0].id == menu.id)


@router.post(
    "/voice-menus/{menu_id}/activate",
    response_model=VoiceMenuOut,
    tags=["voice menu"],
    summary="Put a menu version on the line",
    description="Calls already in the menu finish with the version they started with.",
)
async def activate_menu(menu_id: uuid.UUID, principal: Operator, pool: Pool, now: Now) -> VoiceMenuOut:
    menu, at = await phone.activate_menu(pool, principal=principal, menu_id=menu_id, now=now)
    return VoiceMenuOut.of(menu, active=True, activated_at=at)


# ---- call legs (counsellors) ----------------------------------------------------------------


class CallLegOut(BaseModel):
    id: uuid.UUID
    call_sid: str
    caller: str | None = Field(description="The caller's number; only when reading one leg")
    called_number: str | None
    menu_id: uuid.UUID | None
    digit: str | None
    topic: Topic | None
    started_at: datetime
    chosen_at: datetime | None
    routed_to: str | None
    route_reason: str | None
    desk_organisation_id: uuid.UUID | None
    dial_status: str | None
    ended_at: datetime | None
    consultation_id: uuid.UUID | None


@router.get(
    "/channels/phone/legs",
    response_model=list[CallLegOut],
    tags=["phone"],
    summary="Calls not yet completed into a consultation, newest first",
)
async def list_legs(
    principal: Counsellor,
    pool: Pool,
    topic: Topic | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CallLegOut]:
    return [CallLegOut(**vars(leg)) for leg in await phone.list_open_legs(pool, topic=topic, limit=limit)]


@router.get(
    "/channels/phone/legs/{leg_id}",
    response_model=CallLegOut,
    tags=["phone"],
    summary="One call leg, with the caller's number",
    description="Complete it with POST /v1/consultations and `call_leg_id`.",
)
async def get_leg(leg_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal) -> CallLegOut:
    return CallLegOut(**vars(await phone.get_leg(pool, sealer, leg_id=leg_id)))


# ---- chats (counsellors) --------------------------------------------------------------------


class ChatConsentOut(BaseModel):
    decision: ConsentDecision
    items: list[ConsentItem]
    text_version: str
    at: datetime

    @classmethod
    def of(cls, c: ChatConsent | None) -> "ChatConsentOut | None":
        return (
            None
            if c is None
            else cls(decision=c.decision, items=sorted(c.items), text_version=c.text_version, at=c.at)
        )


class ConsentRequestOut(BaseModel):
    id: str
    items: list[ConsentItem]
    text_version: str
    requested_by: str
    requested_at: datetime

    @classmethod
    def of(cls, r: ConsentRequest | None) -> "ConsentRequestOut | None":
        if r is None:
            return None
        return cls(
            id=r.id,
            items=sorted(r.items),
            text_version=r.text_version,
            requested_by=r.requested_by,
            requested_at=r.requested_at,
        )


class ChatSummaryOut(BaseModel):
    id: uuid.UUID
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
    def of(cls, s: chats.ChatSummary) -> "ChatSummaryOut":
        return cls(
            **{
                **vars(s),
                "consent": ChatConsentOut.of(s.consent),
                "consent_requested": ConsentRequestOut.of(s.consent_requested),
            }
        )


class ChatMessageOut(BaseModel):
    id: uuid.UUID
    sender: str = Field(description="user | bot | counsellor")
    counsellor: str | None
    kind: str
    text: str | None
    delivery: str = Field(description="received | pending | sent | failed")
    at: datetime


class ChatOut(ChatSummaryOut):
    transcript: list[ChatMessageOut]


@router.get(
    "/chats",
    response_model=list[ChatSummaryOut],
    tags=["chat"],
    summary="Chats by state: waiting ones (oldest first) for anyone, others only yours",
)
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
    found = await chats.list_chats(
        pool, principal=principal, state=state, topic=topic, mine=mine, limit=limit, since=since
    )
    return [ChatSummaryOut.of(s) for s in found]


@router.post(
    "/chats/{chat_id}/take", response_model=ChatSummaryOut, tags=["chat"], summary="Take a waiting chat"
)
async def take_chat(chat_id: uuid.UUID, principal: Counsellor, pool: Pool, now: Now) -> ChatSummaryOut:
    return ChatSummaryOut.of(await chats.take(pool, principal=principal, chat_id=chat_id, now=now))


@router.get(
    "/chats/{chat_id}", response_model=ChatOut, tags=["chat"], summary="A chat you took, with its transcript"
)
async def read_chat(chat_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal) -> ChatOut:
    summary, messages = await chats.read(pool, sealer, principal=principal, chat_id=chat_id)
    return ChatOut(
        **ChatSummaryOut.of(summary).model_dump(),
        transcript=[ChatMessageOut(**vars(m)) for m in messages],
    )


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)


@router.post(
    "/chats/{chat_id}/messages",
    status_code=201,
    response_model=ChatMessageOut,
    tags=["chat"],
    summary="Reply in a chat you took",
    description="Stored encrypted, then pushed to LINE; 502 if LINE refuses (the row stays, marked failed).",
)
async def send_message(
    chat_id: uuid.UUID,
    body: MessageIn,
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    messenger: Messenger,
    now: Now,
) -> ChatMessageOut:
    message = await chats.send(
        pool, sealer, messenger, principal=principal, chat_id=chat_id, text=body.text, now=now
    )
    return ChatMessageOut(**vars(message))


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
    response_model=ConsentRequestOut,
    tags=["chat"],
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
    request = await chats.request_consent(
        pool,
        sealer,
        messenger,
        principal=principal,
        chat_id=chat_id,
        items=frozenset(body.items),
        text_version=body.text_version,
        now=now,
    )
    out = ConsentRequestOut.of(request)
    assert out is not None
    return out


class ChatCloseIn(CaseDetailsIn):
    topic: Topic | None = Field(default=None, description="Default: the topic the user chose")


@router.post(
    "/chats/{chat_id}/close",
    status_code=201,
    response_model=ConsultationOut,
    tags=["chat"],
    summary="Close a chat you took into a consultation (its transcript attached)",
    description=(
        "The body is a consultation's; channel is chat, the topic defaults to the user's choice and "
        "the user's consent click is the consent record unless `consent` is given. A repeat answers "
        "200 with the same consultation."
    ),
)
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
    consultation, created = await chats.close_into_consultation(
        pool,
        sealer,
        messenger,
        principal=principal,
        chat_id=chat_id,
        # The topic here is a stand-in: the service puts the chat's chosen one unless one is named.
        new=body.details(channel=Channel.CHAT, topic=body.topic or Topic.LONELY),
        topic=body.topic,
        now=now,
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/consultations/{consultation.id}"
    view = await service.get_consultation(pool, sealer, principal=principal, consultation_id=consultation.id)
    return ConsultationOut.of(view)
