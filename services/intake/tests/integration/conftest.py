"""Fixtures of intake's integration tests: a migrated database of its own per test, the real app on
it (with its lifespan, none of its loops), a local LINE API stand-in, and a clock tests move."""

import importlib.util
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import httpx
import pytest

from eventkit.auth import generate_signing_keypair, mint_token
from eventkit.clock import MovableClock
from eventkit.crypto import Keyring, generate_keyring_entry
from eventkit.runtime import NO_LOOPS
from eventkit.testing import Infra, app_client, service_database_fixtures, service_settings
from intake.config import Settings
from intake.main import MIGRATIONS, create_app
from intake.sealing import Sealer

TWILIO_TOKEN = "test-twilio-auth-token"
LINE_SECRET = "test-line-channel-secret"
LINE_ACCESS_TOKEN = "test-line-access-token"
PUBLIC_BASE_URL = "https://intake.example.jp"


def _load_stub() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "scripts" / "line_api_stub.py"
    spec = importlib.util.spec_from_file_location("intake_line_api_stub", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


line_api_stub = _load_stub()


service_db, pool = service_database_fixtures("intake", MIGRATIONS)


@pytest.fixture
def keys() -> str:
    return generate_keyring_entry("k1")


@pytest.fixture
def sealer(keys: str) -> Sealer:
    return Sealer(Keyring(keys))


@pytest.fixture
def line_api() -> Iterator[Any]:
    with line_api_stub.LineApiStub(access_token=LINE_ACCESS_TOKEN) as stub:
        yield stub


@dataclass
class Api:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    private_key: str
    clock: MovableClock
    line_api: Any
    sealer: Sealer
    # The secrets the providers share with intake, and the URL they call.
    twilio_token: str = TWILIO_TOKEN
    line_secret: str = LINE_SECRET
    base_url: str = PUBLIC_BASE_URL

    def headers(
        self, role: str, subject: str | None = None, organisation_id: uuid.UUID | None = None
    ) -> dict[str, str]:
        token = mint_token(
            self.private_key,
            role=role,
            subject=subject or f"{role}-1",
            organisation_id=str(organisation_id) if organisation_id else None,
        )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(service_db: str, infra: Infra, keys: str, line_api: Any) -> AsyncIterator[Api]:
    private_key, public_key = generate_signing_keypair()
    settings = Settings(
        **service_settings(
            infra,
            service_db,
            auth_public_key=public_key,
            encryption_keys=keys,
            twilio_auth_token=TWILIO_TOKEN,
            line_channel_secret=LINE_SECRET,
            line_channel_access_token=LINE_ACCESS_TOKEN,
            line_api_base_url=line_api.url,
            public_base_url=PUBLIC_BASE_URL,
        )
    )
    clock = MovableClock(datetime(2026, 5, 3, 3, 0, tzinfo=UTC))
    # No consumer (on a shared broker it would join the real `intake` group), no purge loop, and no
    # relay: the outbox rows stay in this test's database for the tests to read, instead of
    # reaching the running stack's services through the shared broker.
    app = create_app(settings, clock=clock, loops=NO_LOOPS)
    async with app_client(app, PUBLIC_BASE_URL) as client:
        yield Api(client, app.state.runtime.pool, private_key, clock, line_api, app.state.sealer)
