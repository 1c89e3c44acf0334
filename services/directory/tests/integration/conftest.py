"""directory's integration fixtures: a freshly migrated database of its own for each test."""

import uuid
from typing import Any

import asyncpg
import pytest

from directory.main import MIGRATIONS
from directory.register import repository
from directory.register.domain import Organisation, OrgType, Service
from eventkit.testing import service_database_fixtures

service_db, pool = service_database_fixtures("directory", MIGRATIONS)


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
