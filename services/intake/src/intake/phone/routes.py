"""phone's HTTP edge for people: operators' voice menus, counsellors' call legs."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from contracts.vocabulary import Topic
from eventkit.deps import Counsellor, Operator, Pool, Staff
from eventkit.routing import api_router
from eventkit.text import Line, Text
from intake.deps import Channels, Now, Seal
from intake.phone import service
from intake.phone.domain import Desk, Hours, MenuDraft, MenuOption, Window, format_hhmm, parse_hhmm, to_e164
from intake.phone.service import ListedMenu

router = api_router()


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

    @classmethod
    def of(cls, window: Window) -> "WindowIn":
        return cls(
            start=format_hhmm(window.start), end=format_hhmm(window.end), weekdays=sorted(window.weekdays)
        )

    def to_domain(self) -> Window:
        return Window(parse_hhmm(self.start), parse_hhmm(self.end), frozenset(self.weekdays))


class HoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    always: bool = False
    windows: list[WindowIn] = Field(default=[], max_length=20)

    @classmethod
    def of(cls, hours: Hours) -> "HoursIn":
        return cls(always=hours.always, windows=[WindowIn.of(w) for w in hours.windows])

    def to_domain(self) -> Hours:
        return Hours(self.always, tuple(w.to_domain() for w in self.windows))


class DeskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID = Field(description="The partner organisation answering this desk")
    number: str = Field(max_length=20, description="Its phone number, 0… or +81…")
    hours: HoursIn

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        return to_e164(value)

    @classmethod
    def of(cls, desk: Desk) -> "DeskIn":
        return cls(organisation_id=desk.organisation_id, number=desk.number, hours=HoursIn.of(desk.hours))

    def to_domain(self) -> Desk:
        return Desk(self.organisation_id, self.number, self.hours.to_domain())


class OptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digit: str = Field(pattern=r"^[0-9]$")
    topic: Topic
    label: Line = Field(min_length=1, max_length=60, description="Read out, e.g. 孤独・孤立に悩んでいる方")
    desk: DeskIn | None = Field(default=None, description="None: callers go to the fallback number")

    @classmethod
    def of(cls, option: MenuOption) -> "OptionIn":
        desk = DeskIn.of(option.desk) if option.desk else None
        return cls(digit=option.digit, topic=option.topic, label=option.label, desk=desk)

    def to_domain(self) -> MenuOption:
        return MenuOption(self.digit, self.topic, self.label, self.desk.to_domain() if self.desk else None)


class VoiceMenuIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["gw-2026", "nenmatsu-2026"])
    greeting: Text = Field(min_length=1, max_length=500, examples=["孤独・孤立相談ダイヤルです。"])
    fallback_number: str | None = Field(default=None, max_length=20, description="Default: 0120-494949")
    options: list[OptionIn] = Field(min_length=1, max_length=10)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    @field_validator("fallback_number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        return to_e164(value) if value else None

    def to_domain(self) -> MenuDraft:
        options = tuple(o.to_domain() for o in self.options)
        return MenuDraft(
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
    def of(cls, listed: ListedMenu) -> "VoiceMenuOut":
        m = listed.menu
        return cls.model_validate(
            {
                **vars(m),
                "prompt": m.prompt(),
                "options": [OptionIn.of(o) for o in m.options],
                "active": listed.active,
                "activated_at": listed.activated_at,
            }
        )


@router.post("/voice-menus", status_code=201, tags=["voice menu"])
async def create_menu(
    body: VoiceMenuIn, principal: Operator, pool: Pool, channels: Channels, now: Now, response: Response
) -> VoiceMenuOut:
    """Create a new version of a campaign's voice menu

    Versions are numbered per campaign and never change; activate one to put it on the line.
    """
    created = await service.create_menu(
        pool, principal=principal, draft=body.to_domain(), default_fallback=channels.fallback_number, now=now
    )
    response.headers["Location"] = f"/v1/voice-menus/{created.menu.id}"
    return VoiceMenuOut.of(created)


@router.get("/voice-menus/active", tags=["voice menu"], summary="The menu callers hear")
async def active_menu(principal: Staff, pool: Pool) -> VoiceMenuOut:
    return VoiceMenuOut.of(await service.active_menu(pool))


@router.get("/voice-menus", tags=["voice menu"], summary="Menu versions, newest first")
async def list_menus(
    principal: Staff,
    pool: Pool,
    campaign: Annotated[Line | None, Query(max_length=63)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[VoiceMenuOut]:
    return [VoiceMenuOut.of(m) for m in await service.list_menus(pool, campaign=campaign, limit=limit)]


@router.get("/voice-menus/{menu_id}", tags=["voice menu"], summary="One menu version")
async def get_menu(menu_id: uuid.UUID, principal: Staff, pool: Pool) -> VoiceMenuOut:
    return VoiceMenuOut.of(await service.get_menu(pool, menu_id=menu_id))


@router.post("/voice-menus/{menu_id}/activate", tags=["voice menu"])
async def activate_menu(menu_id: uuid.UUID, principal: Operator, pool: Pool, now: Now) -> VoiceMenuOut:
    """Put a menu version on the line

    Calls already in the menu finish with the version they started with.
    """
    return VoiceMenuOut.of(await service.activate_menu(pool, principal=principal, menu_id=menu_id, now=now))


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

    @classmethod
    def of(cls, leg: service.CallLeg) -> "CallLegOut":
        return cls.model_validate({**vars(leg.stored), "caller": leg.caller})


@router.get(
    "/channels/phone/legs",
    tags=["phone"],
    summary="Calls not yet completed into a consultation, newest first",
)
async def list_legs(
    principal: Counsellor,
    pool: Pool,
    topic: Topic | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CallLegOut]:
    legs = await service.list_open_legs(pool, topic=topic, limit=limit)
    return [CallLegOut.of(leg) for leg in legs]


@router.get("/channels/phone/legs/{leg_id}", tags=["phone"])
async def get_leg(leg_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal) -> CallLegOut:
    """One call leg, with the caller's number

    Complete it with POST /v1/consultations and `call_leg_id`.
    """
    return CallLegOut.of(await service.get_leg(pool, sealer, leg_id=leg_id))
