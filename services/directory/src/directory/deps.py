"""Annotated dependencies of directory's routes."""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from directory.service import Context
from eventkit.auth import Principal, Role, require_role


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


def _context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Ctx = Annotated[Context, Depends(_context)]
Operator = Annotated[Principal, require_role(Role.OPERATOR)]
# Counsellors look organisations up while on a call, and try a match before asking for one.
Staff = Annotated[Principal, require_role(Role.OPERATOR, Role.COUNSELLOR)]
# Partners may read and edit their own entries; the service enforces "own".
AnyRole = Annotated[Principal, require_role(Role.OPERATOR, Role.COUNSELLOR, Role.PARTNER)]
Editor = Annotated[Principal, require_role(Role.OPERATOR, Role.PARTNER)]
