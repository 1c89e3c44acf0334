"""referral's composition root: settings → runtime (pool, producer, relay, consumer, scheduler) → app."""

from pathlib import Path

from fastapi import FastAPI

from eventkit.clock import Clock, system_clock
from eventkit.db import service_migrations
from eventkit.http import create_service_app
from eventkit.links import LinkVerifier
from eventkit.runtime import ServiceRuntime, Worker
from eventkit.telemetry import setup_telemetry
from referral import routes
from referral.config import Settings
from referral.lifecycle.handlers import bind
from referral.lifecycle.service import Lifecycle
from referral.scheduler import DeadlineScheduler

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings, *, clock: Clock = system_clock) -> FastAPI:
    setup_telemetry("referral")
    lifecycle = Lifecycle(policy=settings.handoff_policy(), clock=clock)

    def scheduler(runtime: ServiceRuntime) -> Worker:
        return DeadlineScheduler(
            pool=runtime.pool, lifecycle=lifecycle, poll_interval_s=settings.scheduler_poll_interval_s
        )

    runtime = ServiceRuntime(
        name="referral",
        settings=settings,
        migrations=service_migrations("referral", MIGRATIONS),
        handlers=bind(lifecycle),
        worker_factories=[scheduler],
    )
    app = create_service_app(
        runtime=runtime,
        title="Tsunagu referral",
        description=(
            "Follows each referral's handoff: offers to ranked organisations with deadlines, "
            "acknowledgements, escalation, outcomes and the case timeline."
        ),
        routers=[routes.router],
    )
    app.state.lifecycle = lifecycle
    app.state.link_verifier = LinkVerifier(settings.link_verify_key)
    return app
