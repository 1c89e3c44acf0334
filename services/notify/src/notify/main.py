"""notify's composition root: settings → runtime (pool, producer, relay, consumer, sender) → app."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from eventkit.crypto import Keyring
from eventkit.db import service_migrations
from eventkit.http import create_service_app
from eventkit.runtime import ServiceRuntime, Worker
from eventkit.telemetry import setup_telemetry
from notify import routes
from notify.alerts.handlers import HANDLERS
from notify.config import Settings
from notify.deliveries.domain import RetryPolicy
from notify.links import AckLinks
from notify.sender.mail import Mailer, SmtpServer
from notify.sender.worker import DeliveryWorker

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings) -> FastAPI:
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

    runtime = ServiceRuntime(
        name="notify",
        settings=settings,
        migrations=service_migrations("notify", MIGRATIONS),
        handlers=HANDLERS,
        worker_factories=[delivery_worker],
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
    return app
