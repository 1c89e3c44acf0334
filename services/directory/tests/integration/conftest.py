"""directory's integration fixtures: a freshly migrated database of its own for each test."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

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
