"""The one app factory: the lifespan it is given runs around the app's life, its routers are served
with their latency timed for /metrics, and an undocumented app serves no OpenAPI pages."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI
from prometheus_client import generate_latest

from eventkit.app import create_http_app
from eventkit.metrics import REGISTRY


def _app(name: str, life: list[str], *, documented: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        life.append("started")
        yield
        life.append("stopped")

    router = APIRouter()

    @router.get("/v1/answer")
    async def answer() -> dict[str, int]:
        return {"answer": 42}

    return create_http_app(
        name=name, title="test", lifespan=lifespan, routers=[router], documented=documented
    )


async def test_the_app_runs_its_lifespan_serves_its_routers_and_times_them_for_metrics() -> None:
    life: list[str] = []
    app = _app("app-factory-test", life)
    async with app.router.lifespan_context(app):
        assert life == ["started"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/v1/answer")).json() == {"answer": 42}
            assert (await client.get("/openapi.json")).status_code == 200
    assert life == ["started", "stopped"]
    timed = 'route="/v1/answer",service="app-factory-test",status="200"} 1.0'
    assert timed in generate_latest(REGISTRY).decode()


async def test_an_undocumented_app_serves_neither_its_openapi_document_nor_its_pages() -> None:
    app = _app("app-factory-undocumented", [], documented=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert (await client.get(path)).status_code == 404, path
