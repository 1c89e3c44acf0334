"""pytest plugin (loaded with `-p eventkit.testing`): a database of its own for each test, and the tiers.

The PostgreSQL and Kafka underneath come from the `infra` fixture, which the repository's test
set-up provides (tests/stack_plugin.py: containers where Docker answers, else the local stack);
eventkit knows only the URLs it hands over.
"""

import os
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

if TYPE_CHECKING:
    from contracts.events import Event
    from eventkit.consumer import Handler
    from eventkit.envelope import Envelope


@dataclass(frozen=True)
class Infra:
    admin_database_url: str
    kafka_bootstrap_servers: str
    kind: str  # "testcontainers" or "local-stack"

    def database_url(self, name: str) -> str:
        base, _, _ = self.admin_database_url.rpartition("/")
        return f"{base}/{name}"


def repo_root(start: Path | None = None) -> Path:
    """The repository a test file lives in: the folder holding both schemas/ and services/."""
    here = (start or Path(__file__)).resolve()
    for folder in (here, *here.parents):
        if (folder / "schemas").is_dir() and (folder / "services").is_dir():
            return folder
    return Path.cwd()


@pytest.fixture
async def fresh_database(infra: Infra) -> AsyncIterator[str]:
    """A database of its own for one test, dropped afterwards: tests never share state."""
    async with database_of_its_own(infra) as url:
        yield url


@asynccontextmanager
async def database_of_its_own(infra: Infra) -> AsyncIterator[str]:
    """A new database, dropped on leaving: for a fixture of a wider scope than one test (a module
    of read-only probes, say)."""
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


def _tier_of_folder(config: pytest.Config, item: pytest.Item) -> str | None:
    """The tier a test's folder names: the nearest of its folders called unit, integration or e2e."""
    folders = item.path.relative_to(config.rootpath).parts[:-1]
    return next((folder for folder in reversed(folders) if folder in TIERS), None)


# Before pytest's own hook deselects by `-m`, so the tier a folder gives is seen by the selection.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test belongs to exactly one tier, so `-m unit|integration|e2e` misses nothing. A test
    in a folder named after a tier (tests/unit/, tests/integration/, tests/e2e/) is of that tier; a
    test elsewhere says its own with `pytestmark`."""
    for item in items:
        tier = _tier_of_folder(config, item)
        if tier is not None and not any(item.get_closest_marker(t) for t in TIERS):
            item.add_marker(tier)
    untiered = [item.nodeid for item in items if not any(item.get_closest_marker(t) for t in TIERS)]
    if untiered:
        raise pytest.UsageError("tests without a unit/integration/e2e marker: " + ", ".join(untiered[:10]))


def pytest_configure(config: pytest.Config) -> None:
    # Tests run in development mode, as the local stack does: throwaway secrets, plain-http
    # cookies. A test of the refusals outside it passes development_mode=False.
    os.environ.setdefault("TSUNAGU_DEVELOPMENT_MODE", "true")
    # Property tests share two cores with Kafka, PostgreSQL and the services: a scheduling stall
    # must not fail an example for being slow. What they check is correctness, not speed.
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:  # an install without the test extras
        return
    settings.register_profile("tsunagu", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("tsunagu")


def service_settings(infra: Infra, database_url: str, **more: Any) -> dict[str, Any]:
    """What a test app's Settings take from the test: its database, the shared broker, a small pool
    and a short shutdown grace; `more` is the service's own."""
    return {
        "database_url": database_url,
        "kafka_bootstrap_servers": infra.kafka_bootstrap_servers,
        "db_pool_min": 1,
        "db_pool_max": 4,
        "shutdown_grace_s": 5,
        **more,
    }


@asynccontextmanager
async def app_client(app: Any, base_url: str = "http://testserver") -> AsyncIterator[Any]:
    """An HTTP client of an app built by `create_app`, run through its own lifespan. On a shared
    broker build it with `loops=NO_LOOPS` (eventkit.runtime): no consumer, loops or publishing
    relay that would reach the running services; the outbox rows stay in the database."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client,
    ):
        yield client


def bearer(private_key: str, role: str, organisation_id: uuid.UUID | str | None = None) -> dict[str, str]:
    """The Authorization header of a token for `role` (subject "<role>-1"), signed with the test's
    `private_key`; a partner's token names its organisation."""
    from eventkit.auth import mint_token

    organisation = str(organisation_id) if organisation_id else None
    token = mint_token(private_key, role=role, subject=f"{role}-1", organisation_id=organisation)
    return {"Authorization": f"Bearer {token}"}


async def consume(
    pool: asyncpg.Pool,
    handlers: Mapping[type["Event"], "Handler"],
    event: "Event",
    envelope: "Envelope | None" = None,
) -> None:
    """What EventConsumer does around a handler, minus the broker: one transaction, one call (a new
    envelope unless the test gives one, to replay the same delivery)."""
    from eventkit.consumer import Message
    from eventkit.envelope import new_envelope

    message = Message(envelope or new_envelope(event), event.TOPIC, 0, 0)
    async with pool.acquire() as conn, conn.transaction():
        await handlers[type(event)](conn, event, message)


async def outbox_rows(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """The events a test's handlers staged for publishing, oldest first, with their topic and key."""
    rows = await pool.fetch("SELECT topic, message_key, event_type, payload FROM outbox ORDER BY seq")
    return [dict(row) for row in rows]
