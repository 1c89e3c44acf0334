"""intake's composition root: settings → runtime (pool, producer, relay, consumer, purge) → HTTP app."""

from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from eventkit.app import create_service_app
from eventkit.clock import Clock, system_clock
from eventkit.crypto import Keyring
from eventkit.db import service_migrations
from eventkit.errors import ApiError
from eventkit.ratelimit import Limit
from eventkit.runtime import EVERY_LOOP, Loops, ServiceRuntime, Worker
from eventkit.telemetry import setup_telemetry
from intake.chat import line_routes, web_routes
from intake.chat import routes as chat_routes
from intake.chat.line import HttpLineMessenger, LineMessenger
from intake.config import Settings
from intake.consultations import routes as consultation_routes
from intake.consultations.domain import PersonalDataPurged
from intake.deps import DEVELOPMENT_RATE_LIMITS, ChannelConfig
from intake.disclosure import routes as disclosure_routes
from intake.handlers import HANDLERS
from intake.phone import routes as phone_routes
from intake.phone import voice_routes
from intake.retention.worker import RetentionWorker
from intake.risk import routes as risk_routes
from intake.sealing import Sealer

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

ROUTERS = (
    consultation_routes.router,
    risk_routes.router,
    disclosure_routes.router,
    phone_routes.router,
    voice_routes.router,
    chat_routes.router,
    line_routes.router,
    web_routes.router,
)


async def _gone(_: Request, error: Exception) -> JSONResponse:
    # eventkit's table knows no 410; purged personal data is intake's own answer, given here once.
    assert isinstance(error, PersonalDataPurged)
    answer = ApiError(410, error.code, error.message)
    return JSONResponse(answer.body(), status_code=answer.status)


def create_app(
    settings: Settings,
    *,
    messenger: LineMessenger | None = None,
    clock: Clock = system_clock,
    rate_limits: Mapping[str, Limit] | None = None,
    loops: Loops = EVERY_LOOP,
) -> FastAPI:
    """`messenger`, `clock` and `rate_limits` are seams for tests: another LINE client, another
    time, other limits by name (by default the routes' own, widened in development mode)."""
    setup_telemetry("intake")
    keyring = Keyring(settings.encryption_keys.get_secret_value())

    def retention_worker(runtime: ServiceRuntime) -> Worker:
        return RetentionWorker(
            pool=runtime.pool,
            retention_days=settings.retention_days,
            interval_s=settings.purge_interval_s,
            clock=clock,
            keyring=keyring,
        )

    runtime = ServiceRuntime(
        name="intake",
        settings=settings,
        migrations=service_migrations("intake", MIGRATIONS),
        handlers=HANDLERS,
        worker_factories=[retention_worker],
        loops=loops,
    )
    app = create_service_app(
        runtime=runtime,
        title="Tsunagu intake",
        description=(
            "Records #9999 consultations from counsellors, the phone voice menu and LINE chats; "
            "assesses their severity by versioned rules; records consent and every release of "
            "personal data to a partner."
        ),
        routers=ROUTERS,
    )
    app.add_exception_handler(PersonalDataPurged, _gone)
    app.state.keyring = keyring
    app.state.sealer = Sealer(keyring)
    app.state.clock = clock
    if rate_limits is None:
        rate_limits = DEVELOPMENT_RATE_LIMITS if settings.development_mode else {}
    app.state.rate_limits = rate_limits
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
