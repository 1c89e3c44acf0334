"""Annotated dependencies of intake's routes."""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from eventkit.auth import Principal, Role, require_role
from eventkit.crypto import Keyring


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


def _keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Keys = Annotated[Keyring, Depends(_keyring)]
Counsellor = Annotated[Principal, require_role(Role.COUNSELLOR)]
