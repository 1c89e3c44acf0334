"""Fixtures of referral's integration tests: a freshly migrated database of its own per test."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from eventkit.db import create_pool, migrate, service_migrations
from referral.main import MIGRATIONS


@pytest.fixture
async def referral_db(fresh_database: str) -> str:
    await migrate(fresh_database, service_migrations("referral", MIGRATIONS))
    return fresh_database


@pytest.fixture
async def pool(referral_db: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(referral_db, min_size=1, max_size=4)
    try:
        yield created
    finally:
        await created.close()
