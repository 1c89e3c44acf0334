"""notify's composition root: settings → runtime (pool, producer, relay, consumer, sender) → app."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from eventkit.app import create_service_app
from eventkit.crypto import Keyring
from eventkit.db import service_migrations
from eventkit.metrics import StateCount
from eventkit.runtime import EVERY_LOOP, Loops, ServiceRuntime, Worker
from eventkit.telemetry import setup_telemetry
from notify import routes
from notify.config import Settings
from notify.deliveries import repository as deliveries_repository
from notify.deliveries.domain import RetryPolicy
from notify.handlers import build_handlers
from notify.links import AckLinks
from notify.paging.domain import PagingPolicy
from notify.paging.service import Pager
from notify.paging.worker import PagerWebhook, PagingWorker
from notify.sender.mail import Mailer, SmtpServer
from notify.sender.worker import DeliveryWorker

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
# /metrics beyond eventkit's own (deploy/prometheus/rules.yaml alerts on them).
GAUGES = (
    StateCount(
        "tsunagu_deliveries",
        "Webhook deliveries by outcome",
        "outcome",
        deliveries_repository.count_by_status,
    ),
    StateCount(
        "tsunagu_webhook_tries_5m",
        "Webhook POSTs of the last five minutes, by outcome (ok, failed)",
        "outcome",
        deliveries_repository.count_recent_tries_by_outcome,
    ),
)


def create_app(settings: Settings, *, loops: Loops = EVERY_LOOP) -> FastAPI:
    setup_telemetry("notify")
    keyring = Keyring(settings.encryption_keys.get_secret_value())
    links = AckLinks(
        signing_key=settings.link_signing_key.get_secret_value(),
        referral_public_url=settings.referral_public_url,
        valid_after_deadline=timedelta(seconds=settings.link_valid_after_deadline_s),
    )
    mailer = Mailer(
        SmtpServer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout_s=settings.smtp_timeout_s,
        )
    )

    def delivery_worker(runtime: ServiceRuntime) -> Worker:
        return DeliveryWorker(
            dsn=settings.database_url.get_secret_value(),
            pool=runtime.pool,
            keyring=keyring,
            public_base_url=settings.public_base_url,
            links=links,
            mailer=mailer,
            policy=RetryPolicy(
                max_tries=settings.delivery_max_tries,
                base_s=settings.delivery_backoff_base_s,
                max_s=settings.delivery_backoff_max_s,
            ),
            webhook_timeout_s=settings.webhook_timeout_s,
            lease_s=settings.delivery_lease_s,
            poll_interval_s=settings.delivery_poll_interval_s,
            batch_size=settings.delivery_batch_size,
        )

    paging = PagingPolicy(
        repeat=timedelta(seconds=settings.paging_repeat_s),
        max_alert_age=timedelta(seconds=settings.paging_max_alert_age_s),
    )
    dashboard_url = f"{settings.dashboard_url}/ops/paging"
    pager_webhook = (
        PagerWebhook(
            url=settings.pager_webhook_url,
            routing_key=settings.pager_routing_key.get_secret_value(),
            timeout_s=settings.webhook_timeout_s,
        )
        if settings.pager_webhook_url and settings.pager_routing_key
        else None
    )
    pager = Pager(webhook=pager_webhook is not None, dashboard_url=dashboard_url)

    def paging_worker(runtime: ServiceRuntime) -> Worker:
        return PagingWorker(
            pool=runtime.pool,
            policy=paging,
            s4_ack_limit=timedelta(seconds=settings.paging_s4_ack_limit_s),
            mailer=mailer,
            webhook=pager_webhook,
            dashboard_url=dashboard_url,
            interval_s=settings.paging_poll_interval_s,
        )

    runtime = ServiceRuntime(
        name="notify",
        settings=settings,
        migrations=service_migrations("notify", MIGRATIONS),
        handlers=build_handlers(paging, pager),
        worker_factories=[delivery_worker, paging_worker],
        state_counts=GAUGES,
        loops=loops,
    )
    app = create_service_app(
        runtime=runtime,
        title="Tsunagu notify",
        description=(
            "Alerts partner organisations about offered handoffs (signed webhook, e-mail, portal "
            "inbox) with an acknowledgement link, and records every try."
        ),
        routers=[routes.router],
    )
    app.state.keyring = keyring
    app.state.links = links
    app.state.pager = pager
    return app
