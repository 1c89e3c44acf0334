"""directory's integration fixtures: a freshly migrated database of its own for each test, and the
real app on it."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from directory.config import Settings
from directory.main import MIGRATIONS, create_app
from directory.register import repository
from directory.register.domain import Organisation, Service
from eventkit.runtime import Loops
from eventkit.testing import Infra, app_client, service_database_fixtures, service_settings

from ..builders import organisation_with_service

service_db, pool = service_database_fixtures("directory", MIGRATIONS)


@pytest.fixture
async def client(infra: Infra, service_db: str, auth_public_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan, for a module that names the key of its tokens in an
    `auth_public_key` fixture. Without its consumer: joining the `directory` group on the shared
    broker would take referral requests away from a running directory service."""
    settings = Settings(**service_settings(infra, service_db, auth_public_key=auth_public_key))
    async with app_client(create_app(settings, loops=Loops(consumer=False)), "http://directory") as c:
        yield c


async def register(
    pool: asyncpg.Pool,
    name: str,
    coverage: tuple[str, ...],
    *,
    org: dict[str, Any] | None = None,
    **service: Any,
) -> tuple[Organisation, Service]:
    """An organisation with its main service (same id), written straight through the repository."""
    org_id = uuid.uuid4()
    hook = {"webhook_url": f"http://127.0.0.1:8109/hooks/{org_id}"}
    organisation, main = organisation_with_service(
        name, coverage, org_id=org_id, org=hook | (org or {}), **service
    )
    async with pool.acquire() as conn:
        assert await repository.insert_organisation(conn, organisation=organisation, updated_by="test")
        await repository.upsert_service(conn, service=main, updated_by="test")
    return organisation, main


@pytest.fixture
def registrar(pool: asyncpg.Pool) -> Any:
    async def make(name: str, coverage: tuple[str, ...], **fields: Any) -> tuple[Organisation, Service]:
        return await register(pool, name, coverage, **fields)

    return make
