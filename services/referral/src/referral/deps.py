"""Annotated dependencies of referral's routes."""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from eventkit.auth import Principal, Role, require_role


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
# Partners may read a referral, but only their own organisation's; the service checks which.
AnyRole = Annotated[Principal, require_role(Role.COUNSELLOR, Role.OPERATOR, Role.PARTNER)]
CounsellorOrOperator = Annotated[Principal, require_role(Role.COUNSELLOR, Role.OPERATOR)]
