"""intake's composition root: settings → runtime (pool, producer, relay, consumer, purge) → HTTP app."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from eventkit.crypto import Keyring
from eventkit.db import service_migrations
from eventkit.http import create_service_app
from eventkit.runtime import ServiceRuntime, Worker
from eventkit.telemetry import setup_telemetry
from intake import channel_routes, routes, webchat_routes, webhooks
from intake.config import Settings
from intake.deps import ChannelConfig
from intake.handlers import HANDLERS
from intake.line import HttpLineMessenger, LineMessenger
from intake.maintenance import RetentionWorker
from intake.sealing import Sealer

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    messenger: LineMessenger | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> FastAPI:
    """`messenger` and `clock` are seams for tests: another LINE client, another time."""
    setup_telemetry("intake")
    keyring = Keyring(settings.encryption_keys.get_secret_value())

    def retention_worker(runtime: ServiceRuntime) -> Worker:
        return RetentionWorker(
            pool=runtime.pool,
            retention_days=settings.retention_days,
            interval_s=settings.purge_interval_s,
            clock=clock,
        )

    runtime = ServiceRuntime(
        name="intake",
        settings=settings,
        migrations=service_migrations("intake", MIGRATIONS),
        handlers=HANDLERS,
        worker_factories=[retention_worker],
    )
    app = create_service_app(
        runtime=runtime,
        title="Tsunagu intake",
        description=(
            "Records #9999 consultations from counsellors, the phone voice menu and LINE chats; "
            "assesses their severity by versioned rules; records consent and every release of "
            "personal data to a partner."
        ),
        routers=[routes.router, channel_routes.router, webhooks.router, webchat_routes.router],
    )
    app.state.keyring = keyring
    app.state.sealer = Sealer(keyring)
    app.state.clock = clock
    app.state.messenger = messenger or HttpLineMessenger(
        settings.line_api_base_url, settings.line_channel_access_token.get_secret_value()
    )
    app.state.channels = ChannelConfig(
        twilio_auth_token=settings.twilio_auth_token.get_secret_value(),
        line_channel_secret=settings.line_channel_secret.get_secret_value(),
        public_base_url=settings.public_base_url,
        fallback_number=settings.fallback_number,
    )
    return app
