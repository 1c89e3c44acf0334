"""The dependency aliases every service's routes share: the pool, the roles, app state by name.

A service's own `deps.py` adds only what is its own (a lifecycle, a keyring); roles and the pool
are written once, here, so that "who may call this" reads the same in all four services.
Dependencies are `async def`, even when they await nothing: FastAPI runs a plain `def` in a worker
thread, a hand-off that cost more than the work. Every service's bad-input tests check that none
does (eventkit.testing_probe; the check itself: services/eventkit/tests/unit/test_eventkit_worker_threads.py).
"""

from collections.abc import Callable
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request

from eventkit.auth import Principal, Role, require_role


def app_state(name: str) -> Callable[[Request], Any]:
    """A dependency returning `app.state.<name>`, set once by the service's main.py."""

    async def read(request: Request) -> Any:
        return getattr(request.app.state, name)

    return read


async def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


Pool = Annotated[asyncpg.Pool, Depends(_pool)]

Counsellor = Annotated[Principal, require_role(Role.COUNSELLOR)]
Operator = Annotated[Principal, require_role(Role.OPERATOR)]
Partner = Annotated[Principal, require_role(Role.PARTNER)]
# Counsellors and operators: the hotline's own staff.
Staff = Annotated[Principal, require_role(Role.COUNSELLOR, Role.OPERATOR)]
# Operators and the partner itself; which partner may see what is the service's to check.
OperatorOrPartner = Annotated[Principal, require_role(Role.OPERATOR, Role.PARTNER)]
# Anyone signed in; partners see only their own organisation's, which the service checks.
AnyRole = Annotated[Principal, require_role(Role.COUNSELLOR, Role.OPERATOR, Role.PARTNER)]
