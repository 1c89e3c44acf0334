"""referral's composition root: settings → runtime (pool, producer, relay, consumer) → HTTP app."""

from pathlib import Path

from fastapi import FastAPI

from eventkit.db import service_migrations
from eventkit.http import create_service_app
from eventkit.runtime import ServiceRuntime
from eventkit.telemetry import setup_telemetry
from referral import routes
from referral.config import Settings
from referral.handlers import HANDLERS

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings) -> FastAPI:
    setup_telemetry("referral")
    runtime = ServiceRuntime(
        name="referral",
        settings=settings,
        migrations=service_migrations("referral", MIGRATIONS),
        handlers=HANDLERS,
    )
    return create_service_app(
        runtime=runtime,
        title="Tsunagu referral",
        description="Follows each serious case's handoff to a local support organisation.",
        routers=[routes.router],
    )
