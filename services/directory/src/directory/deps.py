"""Annotated dependencies of directory's routes."""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from eventkit.auth import Principal, Role, require_role


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Operator = Annotated[Principal, require_role(Role.OPERATOR)]
# Counsellors look organisations up while on a call, and try a match before asking for one.
Staff = Annotated[Principal, require_role(Role.OPERATOR, Role.COUNSELLOR)]
# Partners may read their own entry; the service enforces "own".
AnyRole = Annotated[Principal, require_role(Role.OPERATOR, Role.COUNSELLOR, Role.PARTNER)]
