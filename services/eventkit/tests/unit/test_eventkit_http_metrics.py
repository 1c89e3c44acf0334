"""HTTP latency is labelled by route template and status, never by what is in the path."""

import httpx
from fastapi import FastAPI
from prometheus_client import generate_latest

from eventkit.metrics import REGISTRY, HttpMetrics


def _app(service: str) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/people/{person_id}")
    async def person(person_id: str) -> dict[str, str]:
        return {"ok": person_id}

    app.add_middleware(HttpMetrics, service=service)
    return app


async def test_requests_are_counted_by_route_template_and_status_and_the_path_never_becomes_a_label() -> None:
    service = "http-metrics-test"
    transport = httpx.ASGITransport(app=_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/v1/people/090-1234-5678")).status_code == 200
        assert (await client.get("/v1/people/yamada")).status_code == 200
        assert (await client.get("/admin/山田花子")).status_code == 404

    text = generate_latest(REGISTRY).decode()
    ok = f'tsunagu_http_request_duration_seconds_count{{method="GET",route="/v1/people/{{person_id}}",service="{service}",status="200"}} 2.0'
    missing = f'tsunagu_http_request_duration_seconds_count{{method="GET",route="unmatched",service="{service}",status="404"}} 1.0'
    assert ok in text and missing in text
    assert "090-1234-5678" not in text and "yamada" not in text and "山田" not in text
