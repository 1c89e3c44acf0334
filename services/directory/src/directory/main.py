"""directory's composition root: settings → context, runtime (pool, producer, relay, consumer) → app."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from directory.config import Settings
from directory.context import Context
from directory.coverage import routes as coverage
from directory.curation import routes as curation
from directory.geography import repository as geography_data
from directory.geography import routes as geography
from directory.handlers import build_handlers
from directory.hsds import routes as hsds
from directory.matching import routes as matching
from directory.matching.domain import MatchPolicy
from directory.register import routes as register
from eventkit.app import create_service_app
from eventkit.clock import clock_from, system_clock
from eventkit.db import service_migrations
from eventkit.runtime import EVERY_LOOP, Loops, ServiceRuntime
from eventkit.telemetry import setup_telemetry

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings, context: Context | None = None, *, loops: Loops = EVERY_LOOP) -> FastAPI:
    setup_telemetry("directory")
    if context is None:
        # Read the geography now: a broken data file stops start-up instead of the first match.
        geography_data.load()
        context = Context(
            policy=MatchPolicy(capacity_stale_after=timedelta(seconds=settings.capacity_stale_after_s)),
            clock=clock_from(settings.clock_start) if settings.clock_start else system_clock,
            verification_stale_after=timedelta(days=settings.verification_stale_after_days),
        )
    runtime = ServiceRuntime(
        name="directory",
        settings=settings,
        migrations=service_migrations("directory", MIGRATIONS),
        handlers=build_handlers(context),
        loops=loops,
    )
    app = create_service_app(
        runtime=runtime,
        title="Tsunagu directory",
        description="Local support organisations (Open Referral HSDS 3.0), and referrals matched to them.",
        # curation first: its /organisations/search must not be read as /organisations/{id}.
        routers=[
            curation.router,
            register.router,
            hsds.router,
            geography.router,
            matching.router,
            coverage.router,
        ],
    )
    app.state.context = context
    return app
