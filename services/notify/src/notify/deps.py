"""Annotated dependencies of notify's routes."""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from eventkit.auth import Principal, Role, require_role
from eventkit.crypto import Keyring
from notify.config import Settings
from notify.links import AckLinks


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


def _keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


def _links(request: Request) -> AckLinks:
    links: AckLinks = request.app.state.links
    return links


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Keys = Annotated[Keyring, Depends(_keyring)]
Links = Annotated[AckLinks, Depends(_links)]
NotifySettings = Annotated[Settings, Depends(_settings)]
Operator = Annotated[Principal, require_role(Role.OPERATOR)]
OperatorOrPartner = Annotated[Principal, require_role(Role.OPERATOR, Role.PARTNER)]
Partner = Annotated[Principal, require_role(Role.PARTNER)]
