"""The HTTP edge end to end in-process: roles, status codes, validation messages, the dry run.

The real app on the test's database (conftest's `client`), without its consumer."""

import uuid
from typing import Any

import httpx
import pytest

from directory.hsds.mapping import without_metadata
from directory.hsds.taxonomy import NAMESPACE as TAXONOMY_NAMESPACE
from eventkit.auth import generate_signing_keypair
from eventkit.testing import Infra, bearer

SHINJUKU = "131041"
CHIYODA = "131016"
PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()


def auth(role: str, organisation_id: uuid.UUID | None = None) -> dict[str, str]:
    return bearer(PRIVATE_KEY, role, organisation_id)


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
def auth_public_key() -> str:
    return PUBLIC_KEY


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


async def test_a_minimum_age_above_the_maximum_is_a_422_in_the_error_shape_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    ages = body(minimum_age=30, maximum_age=18)
    for response in (
        await client.put(f"/v1/organisations/{uuid.uuid4()}", json=ages, headers=OPERATOR),
        await client.post("/v1/organisations", json=ages, headers=OPERATOR),
    ):
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "validation_failed"
        assert "minimum_age is above maximum_age" in error["details"][0]["reason"]


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
    assert result["candidates"][0]["reasons"][:2] == [
        f"covers_municipality:{SHINJUKU}",
        "handles_topic:LONELY",
    ]
    assert result["excluded"] == [
        {
            "organisation_id": str(women),
            "service_id": str(women),
            "reason": "topic_not_handled",
            "detail": None,
        }
    ]
    assert result["unmatched_reasons"] == []
    assert (await client.post("/v1/match", json=needs, headers=auth("partner", local))).status_code == 403


async def test_a_dry_run_nobody_can_take_explains_why(client: httpx.AsyncClient) -> None:
    needs = {"topic": "LONELY", "municipality_code": "271004", "severity": "S4"}

    response = await client.post("/v1/match", json=needs, headers=OPERATOR)

    assert response.status_code == 200
    assert response.json()["chosen_organisation_id"] is None
    assert response.json()["unmatched_reasons"][0] == "no_active_organisation_covers_area"


# ---- HSDS: import, export, read endpoints, geography ------------------------------------------


def hsds_document() -> dict[str, Any]:
    org_id, service_id, location_id = (str(uuid.uuid4()) for _ in range(3))
    npo = "term:tsunagu-org-type:NPO"
    return {
        "organizations": [
            {
                "id": org_id,
                "name": "【サンプル】ひだまり相談室",
                "description": "居場所と面談",
                "email": "alerts@hidamari.example",
                "phones": [{"number": "03-1234-5678"}],
                "organization_identifiers": [
                    {
                        "identifier_scheme": "JP-CN",
                        "identifier_type": "法人番号",
                        "identifier": "7000012050002",
                    }
                ],
                "attributes": [{"taxonomy_term_id": str(uuid.uuid5(TAXONOMY_NAMESPACE, npo))}],
                "x_tsunagu": {
                    "webhook_url": "http://127.0.0.1:8109/hooks/x",
                    "channels": ["webhook", "email"],
                },
                "services": [
                    {
                        "id": service_id,
                        "name": "面談と同行",
                        "status": "active",
                        "minimum_age": 15,
                        "maximum_age": 39,
                        "service_areas": [{"extent": SHINJUKU}, {"extent": "13"}],
                        "languages": [{"code": "ja"}, {"code": "vi"}],
                        "schedules": [{"byday": "MO,TU,WE,TH,FR", "opens_at": "10:00", "closes_at": "19:00"}],
                        "service_capacity": [
                            {
                                "available": 3,
                                "maximum": 5,
                                "updated": "2026-03-04T09:00:00+09:00",
                                "unit": {"name": "referrals"},
                            }
                        ],
                        "attributes": [
                            {
                                "taxonomy_term_id": str(
                                    uuid.uuid5(TAXONOMY_NAMESPACE, "term:tsunagu-topic:LONELY")
                                )
                            },
                            {
                                "taxonomy_term_id": str(
                                    uuid.uuid5(TAXONOMY_NAMESPACE, "term:tsunagu-capability:INTERVIEW")
                                )
                            },
                            {
                                "taxonomy_term_id": str(
                                    uuid.uuid5(TAXONOMY_NAMESPACE, "term:tsunagu-capability:ACCOMPANY")
                                )
                            },
                        ],
                        "service_at_locations": [{"location_id": location_id}],
                    }
                ],
                "locations": [
                    {
                        "id": location_id,
                        "name": "新宿相談室",
                        "latitude": 35.6938,
                        "longitude": 139.7034,
                        "external_identifier": SHINJUKU,
                        "addresses": [{"address_1": "新宿区歌舞伎町一丁目4-1", "postal_code": "160-0021"}],
                    }
                ],
            }
        ]
    }


async def test_hsds_import_then_export_then_import_again_is_a_lossless_round_trip(
    client: httpx.AsyncClient, infra: Infra
) -> None:
    document = hsds_document()

    imported = await client.post("/v1/hsds/import", json=document, headers=OPERATOR)
    exported = (await client.get("/v1/hsds/export", headers=OPERATOR)).json()
    again = await client.post("/v1/hsds/import", json=exported, headers=OPERATOR)
    re_exported = (await client.get("/v1/hsds/export", headers=OPERATOR)).json()

    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "organizations": 1,
        "services": 1,
        "locations": 1,
        "created": 1,
        "changed_fields": 32,  # every field of a new entry, the organisation's phone among them
    }
    assert again.json()["changed_fields"] == 0  # nothing differs, nothing is rewritten
    assert without_metadata(re_exported) == without_metadata(exported)
    org = exported["organizations"][0]
    service_ = org["services"][0]
    assert org["organization_identifiers"][0]["identifier"] == "7000012050002"
    assert [p["number"] for p in org["phones"]] == ["03-1234-5678"]  # the desk operators call
    assert [a["taxonomy_term"]["code"] for a in org["attributes"]] == ["NPO"]
    assert [a["extent"] for a in service_["service_areas"]] == [SHINJUKU, "13"]
    assert service_["service_capacity"][0]["available"] == 3
    assert service_["schedules"][0]["opens_at"] == "10:00"
    assert service_["service_at_locations"][0]["location_id"] == org["locations"][0]["id"]
    # Provenance: HSDS metadata says who created each field.
    assert {m["updated_by"] for m in service_["metadata"]} == {"operator-1"}
    # The export is the register a fresh directory can be rebuilt from: import it elsewhere.
    assert (await client.post("/v1/hsds/import", json=exported, headers=COUNSELLOR)).status_code == 403


async def test_hsds_import_refuses_bad_codes_with_the_field_and_the_reason(client: httpx.AsyncClient) -> None:
    document = hsds_document()
    document["organizations"][0]["services"][0]["service_areas"][0]["extent"] = "131017"

    response = await client.post("/v1/hsds/import", json=document, headers=OPERATOR)

    assert response.status_code == 422
    (detail,) = response.json()["error"]["details"]
    assert detail["field"].startswith("body.organizations.0.services.0.service_areas.0.extent")
    assert "131017: check digit should be 6" in detail["reason"]
    assert (await client.get("/v1/hsds/export", headers=OPERATOR)).json() == {"organizations": []}


async def test_services_at_locations_by_postcode_municipality_and_proximity(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/hsds/import", json=hsds_document(), headers=OPERATOR)

    by_postcode = (
        await client.get("/v1/service_at_locations", params={"postcode": "160-0022"}, headers=COUNSELLOR)
    ).json()
    elsewhere = (
        await client.get(
            "/v1/service_at_locations", params={"municipality_code": CHIYODA}, headers=COUNSELLOR
        )
    ).json()
    near = (
        await client.get(
            "/v1/service_at_locations",
            params={"municipality_code": CHIYODA, "proximity": 6000},
            headers=COUNSELLOR,
        )
    ).json()
    too_far = (
        await client.get(
            "/v1/service_at_locations",
            params={"municipality_code": CHIYODA, "proximity": 1000},
            headers=COUNSELLOR,
        )
    ).json()
    unknown = await client.get(
        "/v1/service_at_locations", params={"postcode": "000-0000"}, headers=COUNSELLOR
    )

    assert [c["service_name"] for c in by_postcode["contents"]] == ["面談と同行"]
    assert by_postcode["total_items"] == 1 and by_postcode["first_page"] and by_postcode["last_page"]
    assert elsewhere["empty"]
    assert 3000 < near["contents"][0]["distance_m"] < 6000  # 千代田区役所 to 新宿 is about 4.5 km
    assert too_far["empty"]
    assert unknown.status_code == 422


async def test_hsds_read_endpoints_page_services_organizations_and_taxonomy_terms(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/hsds/import", json=hsds_document(), headers=OPERATOR)
    interview = str(uuid.uuid5(TAXONOMY_NAMESPACE, "term:tsunagu-capability:INTERVIEW"))
    shelter = str(uuid.uuid5(TAXONOMY_NAMESPACE, "term:tsunagu-capability:SHELTER"))

    services = (
        await client.get("/v1/services", params={"taxonomy_term_id": interview}, headers=COUNSELLOR)
    ).json()
    none = (await client.get("/v1/services", params={"taxonomy_term_id": shelter}, headers=COUNSELLOR)).json()
    organizations = (
        await client.get("/v1/organizations", params={"search": "ひだまり"}, headers=COUNSELLOR)
    ).json()
    terms = (await client.get("/v1/taxonomy_terms", params={"search": "面談"}, headers=COUNSELLOR)).json()

    assert [s["name"] for s in services["contents"]] == ["面談と同行"]
    assert none["empty"]
    assert organizations["contents"][0]["services"][0]["name"] == "面談と同行"
    assert [t["code"] for t in terms["contents"]] == ["INTERVIEW"]


async def test_partners_report_capacity_for_their_own_services_over_http(client: httpx.AsyncClient) -> None:
    own, other = uuid.uuid4(), uuid.uuid4()
    for organisation_id in (own, other):
        await client.put(f"/v1/organisations/{organisation_id}", json=body(), headers=OPERATOR)
    partner = auth("partner", own)

    reported = await client.put(
        f"/v1/services/{own}/capacity", json={"available": 2, "maximum": 4}, headers=partner
    )
    foreign = await client.put(f"/v1/services/{other}/capacity", json={"available": 2}, headers=partner)
    by_counsellor = await client.put(
        f"/v1/services/{own}/capacity", json={"available": 2}, headers=COUNSELLOR
    )
    read_back = await client.get(f"/v1/organisations/{own}", headers=partner)

    assert reported.status_code == 200 and reported.json()["capacity"]["available"] == 2
    assert (foreign.status_code, by_counsellor.status_code) == (404, 403)
    assert read_back.json()["services"][0]["capacity"]["maximum"] == 4
    # A later PUT of the organisation keeps the reported capacity (it is live state).
    await client.put(f"/v1/organisations/{own}", json=body(name="renamed"), headers=OPERATOR)
    assert (await client.get(f"/v1/services/{own}", headers=partner)).json()["capacity"]["available"] == 2


async def test_geography_answers_a_wards_city_and_a_postal_codes_municipality(
    client: httpx.AsyncClient,
) -> None:
    ward = (await client.get("/v1/municipalities/271276", headers=COUNSELLOR)).json()
    postal = (await client.get("/v1/postal_codes/100-0001", headers=COUNSELLOR)).json()
    bad = await client.get("/v1/municipalities/131017", headers=COUNSELLOR)

    assert (ward["name"], ward["kind"], ward["city_code"], ward["city_name"]) == (
        "大阪市北区",
        "ward",
        "271004",
        "大阪市",
    )
    assert ward["prefecture_name"] == "大阪府"
    assert [(m["code"], m["name"]) for m in postal] == [(CHIYODA, "千代田区")]
    assert (
        bad.status_code == 422
        and "131017: check digit should be 6" in bad.json()["error"]["details"][0]["reason"]
    )


async def test_municipalities_are_searched_by_name_with_wards_named_after_their_city(
    client: httpx.AsyncClient,
) -> None:
    chiyoda = await client.get("/v1/municipalities", params={"q": "ちよだ"}, headers=COUNSELLOR)
    sakai = await client.get("/v1/municipalities", params={"q": "堺", "limit": 3}, headers=COUNSELLOR)
    none = await client.get("/v1/municipalities", params={"q": "存在しない町"}, headers=COUNSELLOR)
    empty = await client.get("/v1/municipalities", params={"q": ""}, headers=COUNSELLOR)
    too_many = await client.get("/v1/municipalities", params={"q": "堺", "limit": 51}, headers=COUNSELLOR)
    anonymous = await client.get("/v1/municipalities", params={"q": "堺"})

    assert chiyoda.status_code == 200
    first = chiyoda.json()[0]
    assert (first["code"], first["name"], first["prefecture_name"]) == (CHIYODA, "千代田区", "東京都")
    assert [(m["code"], m["name"], m["city_name"]) for m in sakai.json()] == [
        ("271403", "堺市", None),
        ("271411", "堺市堺区", "堺市"),
        ("271420", "堺市中区", "堺市"),
    ]
    assert none.status_code == 200 and none.json() == []
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "validation_failed"
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "validation_failed"
    assert anonymous.status_code == 401


async def test_the_dry_run_takes_needs_and_a_time_and_explains_closed_offices(
    client: httpx.AsyncClient,
) -> None:
    office = uuid.uuid4()
    schedules = [{"byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "17:00"}]
    await client.put(f"/v1/organisations/{office}", json=body(schedules=schedules), headers=OPERATOR)
    needs = {"topic": "LONELY", "municipality_code": SHINJUKU, "need_tags": ["HOU"], "age_band": "18-29"}

    night = await client.post(
        "/v1/match", json=needs | {"severity": "S3", "at": "2026-03-04T22:00:00+09:00"}, headers=COUNSELLOR
    )
    queued = await client.post(
        "/v1/match", json=needs | {"severity": "S2", "at": "2026-03-04T22:00:00+09:00"}, headers=COUNSELLOR
    )

    assert night.json()["excluded"] == [
        {
            "organisation_id": str(office),
            "service_id": str(office),
            "reason": "closed",
            "detail": "until 2026-03-05T09:00+09:00",
        }
    ]
    (candidate,) = queued.json()["candidates"]
    assert (candidate["open_now"], candidate["next_opening"]) == (False, "2026-03-05T09:00:00+09:00")
    assert "queued_until:2026-03-05T09:00+09:00" in candidate["reasons"]
    assert "lacks_capability:HOUSING" in candidate["reasons"]


async def test_a_push_channel_without_its_address_is_refused_at_registration(
    client: httpx.AsyncClient,
) -> None:
    no_url = body(webhook_url=None, channels=["webhook"])
    no_mail = body(channels=["webhook", "email"])

    refused = await client.put(f"/v1/organisations/{uuid.uuid4()}", json=no_url, headers=OPERATOR)
    also = await client.put(f"/v1/organisations/{uuid.uuid4()}", json=no_mail, headers=OPERATOR)
    portal_only = await client.put(
        f"/v1/organisations/{uuid.uuid4()}",
        json=body(webhook_url=None, channels=["portal"]),
        headers=OPERATOR,
    )

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"] == [
        {
            "field": "body.webhook_url",
            "reason": "the webhook channel needs a webhook_url: without it an alert would reach nobody",
        }
    ]
    assert also.status_code == 422 and also.json()["error"]["details"][0]["field"] == "body.email"
    assert portal_only.status_code == 201, portal_only.text


@pytest.mark.parametrize(
    ("code", "error", "named"),
    [
        ("139998", "unknown_municipality", "139998"),
        ("221317", "abolished_municipality", "221384"),  # 浜松市中区 → 中央区 (2024-01)
        ("221350", "abolished_municipality", "221392"),  # 浜松市北区 → 中央区 and 浜名区
    ],
)
async def test_unknown_and_abolished_municipality_codes_are_refused_naming_the_successor(
    client: httpx.AsyncClient, code: str, error: str, named: str
) -> None:
    dry_run = await client.post(
        "/v1/match", json={"topic": "LONELY", "municipality_code": code, "severity": "S3"}, headers=COUNSELLOR
    )
    register = await client.put(
        f"/v1/organisations/{uuid.uuid4()}", json=body(coverage=[code]), headers=OPERATOR
    )

    assert dry_run.status_code == 422
    assert dry_run.json()["error"]["code"] == error
    assert named in dry_run.json()["error"]["message"]
    assert register.status_code == 422 and named in register.text
