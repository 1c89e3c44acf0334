"""Fixtures of notify's integration tests: a migrated database of its own per test, the real app
on it, and a real SMTP server."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from eventkit.runtime import NO_LOOPS
from eventkit.testing import Infra, app_client, service_database_fixtures, service_settings
from notify.config import Settings
from notify.main import MIGRATIONS, create_app

from .servers import MailSink, smtp_server

service_db, pool = service_database_fixtures("notify", MIGRATIONS)


@pytest.fixture
def keys() -> str:
    """The keyring entry of the app's settings: tests open what the app sealed with it."""
    return generate_keyring_entry()


@pytest.fixture
async def client(
    infra: Infra, service_db: str, auth_public_key: str, keys: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan, for a module that names the key of its tokens in an
    `auth_public_key` fixture; its links point at notify.example, referral.example and
    ops.example. None of its loops: no consumer, no relay, no delivery worker (it would POST the
    test's deliveries) and no paging worker (the tests drive it)."""
    settings = Settings(
        **service_settings(
            infra,
            service_db,
            auth_public_key=auth_public_key,
            encryption_keys=keys,
            link_signing_key=generate_signing_keypair()[0],
            public_base_url="https://notify.example",
            referral_public_url="https://referral.example",
            dashboard_url="https://ops.example",
        )
    )
    async with app_client(create_app(settings, loops=NO_LOOPS), "http://notify") as c:
        yield c


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    """A real SMTP server (aiosmtpd) on a free local port, for the test."""
    with smtp_server() as sink:
        yield sink
