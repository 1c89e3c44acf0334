"""The one way an HTTP app of Tsunagu is built: `create_http_app` (lifespan, routers, tracing, HTTP
metrics) for the five apps, and `create_service_app` on it for what the four services share."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from eventkit.auth import TokenVerifier
from eventkit.http import install_error_handlers
from eventkit.metrics import HttpMetrics
from eventkit.runtime import ServiceRuntime

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
HEALTH_PATHS = ("healthz", "readyz")


def create_http_app(
    *,
    name: str,
    title: str,
    lifespan: Lifespan,
    routers: Sequence[APIRouter],
    description: str = "",
    documented: bool = True,
    untraced: Sequence[str] = (),
) -> FastAPI:
    """`name` labels the app's HTTP metrics; `documented` serves the OpenAPI document and its
    pages; `untraced` names path parts that get no span, besides the health checks."""
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        # Without the document FastAPI serves neither /docs nor /redoc.
        openapi_url="/openapi.json" if documented else None,
        # The spans come from the OpenTelemetry instrumentation below, with our exclusions.
        # FastAPI's own layer would see it and step aside, but only after checking, per request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    for router in routers:
        app.include_router(router)

    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # The per-chunk ASGI receive/send spans say nothing an operator needs and cost on every call.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=",".join((*HEALTH_PATHS, *untraced)), exclude_spans=["receive", "send"]
    )
    app.add_middleware(HttpMetrics, service=name)
    return app


def create_service_app(
    *,
    runtime: ServiceRuntime,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
) -> FastAPI:
    """A service's app: its runtime started and stopped by the lifespan, bearer tokens verified,
    errors in the one shape, `/healthz` and `/readyz`."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = create_http_app(
        name=runtime.name,
        title=title,
        description=description,
        lifespan=lifespan,
        routers=[_health(runtime), *routers],
    )
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(runtime.settings.auth_public_key)
    install_error_handlers(app)
    return app


def _health(runtime: ServiceRuntime) -> APIRouter:
    health = APIRouter(tags=["health"])

    @health.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @health.get("/readyz", summary="The database and the broker are reachable")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = checks.get("database") == "ok" and checks.get("kafka") == "ok"
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return health
