"""Annotated dependencies of referral's routes."""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from eventkit.auth import Principal, Role, require_role
from eventkit.links import LinkVerifier
from referral.service import Lifecycle


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


def _lifecycle(request: Request) -> Lifecycle:
    lifecycle: Lifecycle = request.app.state.lifecycle
    return lifecycle


def _link_verifier(request: Request) -> LinkVerifier:
    verifier: LinkVerifier = request.app.state.link_verifier
    return verifier


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
CurrentLifecycle = Annotated[Lifecycle, Depends(_lifecycle)]
Links = Annotated[LinkVerifier, Depends(_link_verifier)]
# Partners may read a referral, but only their own organisation's; the service checks which.
AnyRole = Annotated[Principal, require_role(Role.COUNSELLOR, Role.OPERATOR, Role.PARTNER)]
CounsellorOrOperator = Annotated[Principal, require_role(Role.COUNSELLOR, Role.OPERATOR)]
Operator = Annotated[Principal, require_role(Role.OPERATOR)]
Partner = Annotated[Principal, require_role(Role.PARTNER)]
