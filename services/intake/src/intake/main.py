"""intake's composition root: settings → runtime (pool, producer, relay) → HTTP app."""

from pathlib import Path

from fastapi import FastAPI

from eventkit.crypto import Keyring
from eventkit.db import service_migrations
from eventkit.http import create_service_app
from eventkit.runtime import ServiceRuntime
from eventkit.telemetry import setup_telemetry
from intake import routes
from intake.config import Settings
from intake.handlers import HANDLERS

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings) -> FastAPI:
    setup_telemetry("intake")
    runtime = ServiceRuntime(
        name="intake",
        settings=settings,
        migrations=service_migrations("intake", MIGRATIONS),
        handlers=HANDLERS,
    )
    app = create_service_app(
        runtime=runtime,
        title="Tsunagu intake",
        description="Records #9999 consultations from counsellors and channels.",
        routers=[routes.router],
    )
    app.state.keyring = Keyring(settings.encryption_keys.get_secret_value())
    return app
