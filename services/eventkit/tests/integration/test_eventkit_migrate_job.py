"""`python -m eventkit.migrate <service>`, what Kubernetes' migration Job runs, on a real database."""

import asyncio
import os
import sys

import asyncpg
import pytest


async def _run(service: str, dsn: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "eventkit.migrate",
        service,
        env={**os.environ, f"{service.upper()}_DATABASE_URL": dsn},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    return process.returncode or 0, err.decode()


@pytest.mark.parametrize("service", ["referral", "web"])
async def test_the_migration_job_migrates_a_fresh_database_once_and_then_finds_nothing_to_do(
    service: str, fresh_database: str
) -> None:
    code, first = await _run(service, fresh_database)
    assert code == 0, first
    again, second = await _run(service, fresh_database)
    assert again == 0 and f"{service}: 0 migrations applied" in second

    conn = await asyncpg.connect(fresh_database)
    try:
        components = {r["component"] for r in await conn.fetch("SELECT component FROM schema_migrations")}
    finally:
        await conn.close()
    assert components == ({"web"} if service == "web" else {"eventkit", service})


async def test_the_migration_job_refuses_an_unknown_service() -> None:
    code, err = await _run("billing", "postgresql://unused/none")
    assert code == 2 and "usage" in err
