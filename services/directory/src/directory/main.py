"""directory's composition root: settings → runtime (pool, producer, relay, consumer) → HTTP app."""

from pathlib import Path

from fastapi import FastAPI

from directory import routes
from directory.config import Settings
from directory.handlers import HANDLERS
from eventkit.db import service_migrations
from eventkit.http import create_service_app
from eventkit.runtime import ServiceRuntime
from eventkit.telemetry import setup_telemetry

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings) -> FastAPI:
    setup_telemetry("directory")
    runtime = ServiceRuntime(
        name="directory",
        settings=settings,
        migrations=service_migrations("directory", MIGRATIONS),
        handlers=HANDLERS,
    )
    return create_service_app(
        runtime=runtime,
        title="Tsunagu directory",
        description="Keeps the local support organisations and matches referrals to them.",
        routers=[routes.router],
    )
