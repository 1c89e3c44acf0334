"""referral's composition root: settings → runtime (pool, producer, relay, consumer, scheduler) → app."""

from pathlib import Path

from fastapi import FastAPI

from eventkit.app import create_service_app
from eventkit.clock import Clock, system_clock
from eventkit.crypto import Keyring
from eventkit.db import service_migrations
from eventkit.links import LinkVerifier
from eventkit.metrics import StateCount
from eventkit.runtime import EVERY_LOOP, Loops, ServiceRuntime, Worker
from eventkit.telemetry import setup_telemetry
from referral import routes
from referral.config import Settings
from referral.lifecycle import repository
from referral.lifecycle.handlers import bind
from referral.lifecycle.notes import NoteSealer
from referral.lifecycle.service import Lifecycle
from referral.scheduler import DeadlineScheduler

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
# /metrics beyond eventkit's own (deploy/prometheus/rules.yaml alerts on them).
GAUGES = (
    StateCount("tsunagu_handoffs", "Referrals by state", "state", repository.count_by_state),
    StateCount(
        "tsunagu_handoff_attempts_expired",
        "Offers whose acknowledgement deadline passed unanswered, since the start",
        "severity",
        repository.count_expired_by_severity,
    ),
    StateCount(
        "tsunagu_handoff_acknowledgement_p90_seconds",
        "90th percentile of the time from offer to acknowledgement over the last hour",
        "severity",
        repository.acknowledgement_p90_by_severity,
    ),
)


def create_app(settings: Settings, *, clock: Clock = system_clock, loops: Loops = EVERY_LOOP) -> FastAPI:
    setup_telemetry("referral")
    keyring = Keyring(settings.encryption_keys.get_secret_value())
    lifecycle = Lifecycle(policy=settings.handoff_policy(), clock=clock, notes=keyring)

    def note_sealer(runtime: ServiceRuntime) -> Worker:
        return NoteSealer(pool=runtime.pool, keyring=keyring)

    def scheduler(runtime: ServiceRuntime) -> Worker:
        return DeadlineScheduler(
            pool=runtime.pool, lifecycle=lifecycle, poll_interval_s=settings.scheduler_poll_interval_s
        )

    runtime = ServiceRuntime(
        name="referral",
        settings=settings,
        migrations=service_migrations("referral", MIGRATIONS),
        handlers=bind(lifecycle),
        worker_factories=[scheduler, note_sealer],
        state_counts=GAUGES,
        loops=loops,
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
