"""web's composition root: settings → pool, service clients, templates, catalogue → HTTP app."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eventkit import telemetry
from eventkit.app import create_http_app
from eventkit.db import MigrationSource, create_pool, migrate
from eventkit.metrics import MetricsServer
from eventkit.telemetry import setup_telemetry
from web import (
    attention,
    chat,
    console,
    coverage,
    directory_screens,
    operator,
    paging,
    portal,
    reports,
    rescue,
    routes,
    service,
    timefmt,
    voice_menu_screens,
)
from web.backends import BackendError, Backends
from web.chat import ChatHub
from web.config import Settings
from web.deps import SESSION_COOKIE, CsrfFailed, Forbidden, Redirect
from web.i18n import LANGUAGE_COOKIE, Translator, load_catalogue, pick_language
from web.pipeline import Pipeline

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE.parents[1] / "migrations"
ROUTERS = (
    routes.router,
    console.router,
    chat.router,
    portal.router,
    operator.router,
    rescue.router,
    attention.router,
    voice_menu_screens.router,
    directory_screens.router,
    coverage.router,
    reports.router,
    paging.router,
)


def _translator(request: Request) -> Translator:
    catalogue = request.app.state.catalogue
    lang = pick_language(request.cookies.get(LANGUAGE_COOKIE))
    return Translator(lang, catalogue[lang])


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.endswith(".json")


async def _error_page(request: Request, status: int, message_key: str) -> Response:
    t = _translator(request)
    if _wants_json(request):
        return JSONResponse({"error": {"code": message_key, "message": t(message_key)}}, status_code=status)
    # The signed-in person keeps their menu (and sign-out) on an error page too.
    session = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with contextlib.suppress(Exception):
            session = await service.find_session(request.app.state.pool, cookie_value=cookie)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "t": t,
            "lang": t.lang,
            "user": session.user if session else None,
            "csrf_token": session.csrf_token if session else "",
            "status": status,
            "message": t(message_key),
            "path": request.url.path,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(Redirect)
    async def _redirect(_: Request, error: Redirect) -> Response:
        return RedirectResponse(error.location, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, _: Forbidden) -> Response:
        return await _error_page(request, 403, "error.forbidden")

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _: CsrfFailed) -> Response:
        return await _error_page(request, 403, "error.csrf")

    @app.exception_handler(BackendError)
    async def _backend(request: Request, error: BackendError) -> Response:
        # A service's 404 is "not yours or not there": the same page, so ids cannot be probed.
        if error.status in (403, 404):
            return await _error_page(request, 404, "error.not_found")
        if error.status == 503:
            return await _error_page(request, 503, "error.unreachable")
        log.warning("%s answered %s %s", error.service, error.status, error.code)
        return await _error_page(request, 502, "error.backend")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        key = {404: "error.not_found", 405: "error.method", 422: "error.invalid"}.get(
            error.status_code, "error.generic"
        )
        return await _error_page(request, error.status_code, key)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.error("unhandled %s", type(error).__name__, exc_info=error)
        return await _error_page(request, 500, "error.generic")


async def _purge_sessions(app: FastAPI) -> None:
    while True:
        await asyncio.sleep(600)
        try:
            with telemetry.quiet():
                await service.purge_expired_sessions(app.state.pool)
        except Exception:
            log.exception("purging expired sessions failed; trying again later")


# Everything is served from here: no inline script may run, no other origin may frame us.
_SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """Plain ASGI (not BaseHTTPMiddleware, which breaks streamed responses such as SSE)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in _SECURITY_HEADERS if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(settings: Settings) -> FastAPI:
    setup_telemetry("web")
    backends = Backends(
        urls={
            "intake": settings.intake_url,
            "referral": settings.referral_url,
            "directory": settings.directory_url,
            "notify": settings.notify_url,
        }
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dsn = settings.database_url.get_secret_value()
        await migrate(dsn, [MigrationSource("web", MIGRATIONS)])
        app.state.pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        purge = asyncio.create_task(_purge_sessions(app), name="purge-sessions")
        # The screens keep no outbox and consume nothing: their /metrics is HTTP latency alone.
        metrics = MetricsServer(settings.http_host, settings.metrics_port) if settings.metrics_port else None
        if metrics is not None:
            metrics.start()
        try:
            yield
        finally:
            if metrics is not None:
                metrics.stop()
            purge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purge
            await app.state.chat_hub.close()
            await backends.close()
            await app.state.pool.close()

    app = create_http_app(
        name="web",
        title="Tsunagu screens",
        lifespan=lifespan,
        routers=ROUTERS,
        documented=False,
        # Streams (SSE, WebSocket) stay open for minutes: a span per stream says nothing useful.
        untraced=("static", "stream", "ws"),
    )
    app.state.settings = settings
    app.state.backends = backends
    app.state.catalogue = load_catalogue()
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    timefmt.install(app.state.templates.env)
    app.state.pipeline = Pipeline(settings.kafka_bootstrap_servers)
    app.state.chat_hub = ChatHub(backends, settings)
    app.state.organisation_names = {}
    install_handlers(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityHeaders)
    return app
