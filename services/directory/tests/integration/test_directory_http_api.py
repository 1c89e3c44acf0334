"""The HTTP edge end to end in-process: roles, status codes, validation messages, the dry run.

ASGITransport does not run the lifespan, so the runtime is started by hand; it needs the broker
for its producer. Its consumer is left out: joining the `directory` group on a shared broker would
take referral requests away from a running directory service.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from directory.config import Settings
from directory.main import create_app
from eventkit.auth import generate_signing_keypair, mint_token
from eventkit.testing import Infra

pytestmark = pytest.mark.integration

SHINJUKU = "131041"
PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()


def auth(role: str, organisation_id: uuid.UUID | None = None) -> dict[str, str]:
    token = mint_token(
        PRIVATE_KEY,
        role=role,
        subject=f"{role}-1",
        organisation_id=str(organisation_id) if organisation_id else None,
    )
    return {"Authorization": f"Bearer {token}"}


OPERATOR = auth("operator")
COUNSELLOR = auth("counsellor")


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "【サンプル】新宿区社会福祉協議会",
        "org_type": "SHAKYO",
        "coverage": [SHINJUKU],
        "topics": ["LONELY", "POVERTY"],
        "webhook_url": "http://127.0.0.1:8109/hooks/shinjuku",
    } | overrides


@pytest.fixture
async def client(infra: Infra, migrated_database: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=migrated_database,
        auth_public_key=PUBLIC_KEY,
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
        db_pool_min=1,
        db_pool_max=4,
    )
    app = create_app(settings)
    runtime = app.state.runtime
    runtime.handlers = {}
    await runtime.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://directory") as c:
            yield c
    finally:
        await runtime.stop()


async def test_every_endpoint_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    some_id = uuid.uuid4()
    for method, url in [
        ("PUT", f"/v1/organisations/{some_id}"),
        ("POST", "/v1/organisations"),
        ("GET", "/v1/organisations"),
        ("GET", f"/v1/organisations/{some_id}"),
        ("DELETE", f"/v1/organisations/{some_id}"),
        ("POST", "/v1/match"),
    ]:
        response = await client.request(method, url, json={})
        assert response.status_code == 401, (method, url)
        assert response.json()["error"]["code"] == "missing_token"


async def test_put_answers_201_when_created_and_200_when_replaced(client: httpx.AsyncClient) -> None:
    url = f"/v1/organisations/{uuid.uuid4()}"

    first = await client.put(url, json=body(), headers=OPERATOR)
    second = await client.put(url, json=body(topics=[]), headers=OPERATOR)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["topics"] == ["LONELY", "POVERTY"]
    assert second.json()["topics"] == []
    assert second.json()["updated_by"] == "operator-1"


async def test_only_operators_change_the_register(client: httpx.AsyncClient) -> None:
    url = f"/v1/organisations/{uuid.uuid4()}"
    partner = auth("partner", uuid.uuid4())

    for headers in (COUNSELLOR, partner):
        assert (await client.put(url, json=body(), headers=headers)).status_code == 403
        assert (await client.post("/v1/organisations", json=body(), headers=headers)).status_code == 403
        assert (await client.delete(url, headers=headers)).status_code == 403


async def test_a_wrong_check_digit_is_a_422_naming_the_entry_and_the_right_digit(
    client: httpx.AsyncClient,
) -> None:
    response = await client.put(
        f"/v1/organisations/{uuid.uuid4()}", json=body(coverage=["131017"]), headers=OPERATOR
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    (detail,) = error["details"]
    assert detail["field"] == "body.coverage.0"
    assert "131017: check digit should be 6" in detail["reason"]


async def test_post_creates_under_a_new_id_and_points_to_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/organisations", json=body(), headers=OPERATOR)

    assert response.status_code == 201
    location = response.headers["Location"]
    assert location == f"/v1/organisations/{response.json()['id']}"
    assert (await client.get(location, headers=COUNSELLOR)).json() == response.json()


async def test_partner_reads_only_its_own_organisation(client: httpx.AsyncClient) -> None:
    own, other = uuid.uuid4(), uuid.uuid4()
    for organisation_id in (own, other):
        await client.put(f"/v1/organisations/{organisation_id}", json=body(), headers=OPERATOR)
    partner = auth("partner", own)

    assert (await client.get(f"/v1/organisations/{own}", headers=partner)).status_code == 200
    hidden = await client.get(f"/v1/organisations/{other}", headers=partner)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    assert (await client.get("/v1/organisations", headers=partner)).status_code == 403


async def test_the_list_filters_by_municipality_and_rejects_a_bad_code(client: httpx.AsyncClient) -> None:
    await client.put(f"/v1/organisations/{uuid.uuid4()}", json=body(name="Shinjuku"), headers=OPERATOR)
    await client.put(
        f"/v1/organisations/{uuid.uuid4()}", json=body(name="Osaka", coverage=["27"]), headers=OPERATOR
    )

    found = await client.get(
        "/v1/organisations", params={"municipality_code": SHINJUKU, "topic": "LONELY"}, headers=COUNSELLOR
    )
    bad = await client.get("/v1/organisations", params={"municipality_code": "131017"}, headers=COUNSELLOR)

    assert [o["name"] for o in found.json()] == ["Shinjuku"]
    assert bad.status_code == 422


async def test_delete_deactivates_and_answers_204(client: httpx.AsyncClient) -> None:
    url = f"/v1/organisations/{uuid.uuid4()}"
    await client.put(url, json=body(), headers=OPERATOR)

    deleted = await client.delete(url, headers=OPERATOR)

    assert deleted.status_code == 204
    assert (await client.get(url, headers=OPERATOR)).json()["active"] is False
    assert (await client.delete(f"/v1/organisations/{uuid.uuid4()}", headers=OPERATOR)).status_code == 404


async def test_a_malformed_id_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/organisations/not-a-uuid", headers=OPERATOR)

    assert response.status_code == 422


async def test_the_dry_run_shows_ranked_candidates_and_excluded_organisations(
    client: httpx.AsyncClient,
) -> None:
    local, national, women = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await client.put(f"/v1/organisations/{local}", json=body(name="local"), headers=OPERATOR)
    await client.put(
        f"/v1/organisations/{national}",
        json=body(name="national", coverage=["JP"], topics=[]),
        headers=OPERATOR,
    )
    await client.put(
        f"/v1/organisations/{women}", json=body(name="women", topics=["WOMEN"]), headers=OPERATOR
    )
    needs = {"topic": "LONELY", "municipality_code": SHINJUKU, "severity": "S3"}

    response = await client.post("/v1/match", json=needs, headers=COUNSELLOR)

    assert response.status_code == 200
    result = response.json()
    assert result["chosen_organisation_id"] == str(local)
    assert [(c["rank"], c["organisation_id"], c["tier"]) for c in result["candidates"]] == [
        (1, str(local), "municipality"),
        (2, str(national), "national"),
    ]
    assert result["candidates"][0]["reasons"] == [f"covers_municipality:{SHINJUKU}", "handles_topic:LONELY"]
    assert result["excluded"] == [{"organisation_id": str(women), "reason": "topic_not_handled"}]
    assert result["unmatched_reasons"] == []
    assert (await client.post("/v1/match", json=needs, headers=auth("partner", local))).status_code == 403


async def test_a_dry_run_nobody_can_take_explains_why(client: httpx.AsyncClient) -> None:
    needs = {"topic": "LONELY", "municipality_code": "271004", "severity": "S4"}

    response = await client.post("/v1/match", json=needs, headers=OPERATOR)

    assert response.status_code == 200
    assert response.json()["chosen_organisation_id"] is None
    assert response.json()["unmatched_reasons"][0] == "no_active_organisation_covers_area"
