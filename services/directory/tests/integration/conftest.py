"""directory's integration fixtures: a freshly migrated database of its own for each test."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from directory import repository
from directory.domain import Organisation, OrgType, Service
from directory.main import MIGRATIONS
from eventkit.db import create_pool, migrate, service_migrations


@pytest.fixture
async def migrated_database(fresh_database: str) -> str:
    await migrate(fresh_database, service_migrations("directory", MIGRATIONS))
    return fresh_database


@pytest.fixture
async def pool(migrated_database: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(migrated_database, min_size=1, max_size=4)
    try:
        yield created
    finally:
        await created.close()


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
    organisation = Organisation(
        id=org_id,
        name=name,
        org_type=(org or {}).pop("org_type", OrgType.NPO),
        webhook_url=f"http://127.0.0.1:8109/hooks/{org_id}",
        **(org or {}),
    )
    main = Service(id=org_id, organisation_id=org_id, name=name, coverage=coverage, **service)
    async with pool.acquire() as conn:
        assert await repository.insert_organisation(conn, organisation=organisation, updated_by="test")
        await repository.upsert_service(conn, service=main, updated_by="test")
    return organisation, main


@pytest.fixture
def registrar(pool: asyncpg.Pool) -> Any:
    async def make(name: str, coverage: tuple[str, ...], **fields: Any) -> tuple[Organisation, Service]:
        return await register(pool, name, coverage, **fields)

    return make
