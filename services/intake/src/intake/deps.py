"""Annotated dependencies of intake's routes."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from eventkit.auth import Principal, Role, require_role
from intake.line import LineMessenger
from intake.sealing import Sealer


@dataclass(frozen=True)
class ChannelConfig:
    """What the provider webhooks need: their secrets, our public URL, the fallback number."""

    twilio_auth_token: str
    line_channel_secret: str
    public_base_url: str | None
    fallback_number: str


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


def _sealer(request: Request) -> Sealer:
    sealer: Sealer = request.app.state.sealer
    return sealer


def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def _messenger(request: Request) -> LineMessenger:
    messenger: LineMessenger = request.app.state.messenger
    return messenger


def _channels(request: Request) -> ChannelConfig:
    channels: ChannelConfig = request.app.state.channels
    return channels


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Seal = Annotated[Sealer, Depends(_sealer)]
Now = Annotated[datetime, Depends(_now)]
Messenger = Annotated[LineMessenger, Depends(_messenger)]
Channels = Annotated[ChannelConfig, Depends(_channels)]
Counsellor = Annotated[Principal, require_role(Role.COUNSELLOR)]
Operator = Annotated[Principal, require_role(Role.OPERATOR)]
Partner = Annotated[Principal, require_role(Role.PARTNER)]
CounsellorOrOperator = Annotated[Principal, require_role(Role.COUNSELLOR, Role.OPERATOR)]
OperatorOrPartner = Annotated[Principal, require_role(Role.OPERATOR, Role.PARTNER)]
