"""pytest plugin (loaded with `-p eventkit.testing`): real PostgreSQL and Kafka for tests.

Where a Docker engine answers, the fixtures start throwaway containers with testcontainers;
otherwise they start, or reuse, the project's local stack (deploy/local/stack.py). The tests
are the same either way: they only see URLs.
"""

import asyncio
import importlib.util
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import pytest

from contracts.topics import ALL_TOPICS


@dataclass(frozen=True)
class Infra:
    admin_database_url: str
    kafka_bootstrap_servers: str
    kind: str  # "testcontainers" or "local-stack"

    def database_url(self, name: str) -> str:
        base, _, _ = self.admin_database_url.rpartition("/")
        return f"{base}/{name}"


def repo_root(start: Path | None = None) -> Path:
    here = (start or Path(__file__)).resolve()
    for folder in (here, *here.parents):
        if (folder / "deploy" / "local" / "stack.py").exists():
            return folder
    return Path.cwd()


def load_stack_module(root: Path | None = None) -> ModuleType:
    path = repo_root(root) / "deploy" / "local" / "stack.py"
    spec = importlib.util.spec_from_file_location("tsunagu_local_stack", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def docker_available() -> bool:
    if os.environ.get("TSUNAGU_TEST_INFRA") == "local":
        return False
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return probe.returncode == 0


def _containers() -> tuple[Infra, list[Any]]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    postgres = PostgresContainer("postgres:15", driver=None).start()
    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft().start()
    infra = Infra(
        admin_database_url=postgres.get_connection_url(),
        kafka_bootstrap_servers=kafka.get_bootstrap_server(),
        kind="testcontainers",
    )
    return infra, [kafka, postgres]


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """PostgreSQL and Kafka with every contract topic present."""
    started: list[Any] = []
    if docker_available():
        found, started = _containers()
    else:
        stack = load_stack_module().Stack()
        stack.ensure_infra()
        kafka = f"127.0.0.1:{stack.ports['kafka']}"
        found = Infra(stack.admin_database_url(), kafka, "local-stack")
    from eventkit.kafka import ensure_topics

    asyncio.run(ensure_topics(found.kafka_bootstrap_servers, ALL_TOPICS))
    try:
        yield found
    finally:
        for container in started:
            container.stop()


@pytest.fixture
async def fresh_database(infra: Infra) -> AsyncIterator[str]:
    """A database of its own for one test, dropped afterwards: tests never share state."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(infra.admin_database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield infra.database_url(name)
    finally:
        admin = await asyncpg.connect(infra.admin_database_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def service_database_fixtures(service: str, migrations: Path, *, pool_max: int = 4) -> tuple[Any, Any]:
    """`service_db` (a fresh database migrated as `service`'s) and `pool` over it, for a conftest:

    service_db, pool = service_database_fixtures("intake", MIGRATIONS)
    """
    from eventkit.db import create_pool, migrate, service_migrations

    @pytest.fixture(name="service_db")
    async def _service_db(fresh_database: str) -> str:
        await migrate(fresh_database, service_migrations(service, migrations))
        return fresh_database

    @pytest.fixture(name="pool")
    async def _pool(service_db: str) -> AsyncIterator[asyncpg.Pool]:
        created = await create_pool(service_db, min_size=1, max_size=pool_max)
        try:
            yield created
        finally:
            await created.close()

    return _service_db, _pool


TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test belongs to exactly one tier, so `-m unit|integration|e2e` misses nothing."""
    untiered = [item.nodeid for item in items if not any(item.get_closest_marker(t) for t in TIERS)]
    if untiered:
        raise pytest.UsageError("tests without a unit/integration/e2e marker: " + ", ".join(untiered[:10]))


def pytest_configure(config: pytest.Config) -> None:
    # Property tests share two cores with Kafka, PostgreSQL and the services: a scheduling stall
    # must not fail an example for being slow. What they check is correctness, not speed.
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:  # an install without the test extras
        return
    settings.register_profile("tsunagu", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("tsunagu")
