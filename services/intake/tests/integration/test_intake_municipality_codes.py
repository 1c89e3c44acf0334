"""Where a counsellor names a consultation's area, the code must name a place that exists today:
an unknown code, or one abolished by a reorganisation, is refused with a code of its own and the
successors to use, before anything is stored."""

from typing import Any

from ..builders import consultation_body

Api = Any  # the api fixture of conftest.py
UNKNOWN = "139998"  # a valid check digit, but no municipality has it
ABOLISHED = "221317"  # 浜松市中区, merged into 浜松市中央区 on 2024-01-01
SUCCESSOR = "221384"  # 浜松市中央区


def body(**changes: Any) -> dict[str, Any]:
    return consultation_body(severity="S1", summary="眠れない夜が続いている") | changes


def refused_for(response: Any, code: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert [d["field"] for d in error["details"]] == ["body.municipality_code"]
    return error


async def test_an_unknown_code_is_refused_as_unknown_and_nothing_is_stored(api: Api) -> None:
    response = await api.client.post(
        "/v1/consultations", json=body(municipality_code=UNKNOWN), headers=api.headers("counsellor")
    )
    error = refused_for(response, "unknown_municipality")
    assert UNKNOWN in error["message"]
    assert await api.pool.fetchval("SELECT count(*) FROM consultations") == 0
    assert await api.pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_an_abolished_code_is_refused_and_the_answer_names_its_successor(api: Api) -> None:
    counsellor = api.headers("counsellor")
    response = await api.client.post(
        "/v1/consultations", json=body(municipality_code=ABOLISHED), headers=counsellor
    )
    error = refused_for(response, "abolished_municipality")
    assert SUCCESSOR in error["message"] and "浜松市中央区" in error["message"]
    assert SUCCESSOR in error["details"][0]["reason"]
    assert await api.pool.fetchval("SELECT count(*) FROM consultations") == 0

    successor = await api.client.post(
        "/v1/consultations", json=body(municipality_code=SUCCESSOR), headers=counsellor
    )
    assert successor.status_code == 201, successor.text
    assert successor.json()["municipality_code"] == SUCCESSOR


async def test_a_bad_code_among_other_problems_is_one_of_the_details(api: Api) -> None:
    response = await api.client.post(
        "/v1/consultations",
        json=body(municipality_code=ABOLISHED, summary=""),
        headers=api.headers("counsellor"),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert {d["field"] for d in error["details"]} == {"body.municipality_code", "body.summary"}


async def test_an_update_cannot_move_a_case_to_an_unknown_or_abolished_code(api: Api) -> None:
    counsellor = api.headers("counsellor")
    created = await api.client.post("/v1/consultations", json=body(), headers=counsellor)
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]

    path = f"/v1/consultations/{case_id}"
    unknown = await api.client.patch(path, json={"municipality_code": UNKNOWN}, headers=counsellor)
    refused_for(unknown, "unknown_municipality")
    abolished = await api.client.patch(path, json={"municipality_code": ABOLISHED}, headers=counsellor)
    assert SUCCESSOR in refused_for(abolished, "abolished_municipality")["message"]

    read = (await api.client.get(path, headers=counsellor)).json()
    assert (read["municipality_code"], read["revision"]) == ("131041", 1)
    moved = await api.client.patch(path, json={"municipality_code": SUCCESSOR}, headers=counsellor)
    assert moved.status_code == 200 and moved.json()["municipality_code"] == SUCCESSOR


async def test_closing_a_chat_into_a_consultation_checks_the_code_and_leaves_the_chat_open(api: Api) -> None:
    gateway = api.headers("channel", "web-chat-gateway")
    counsellor = api.headers("counsellor")
    started = await api.client.post("/v1/web-chats", json={"topic": "LONELY"}, headers=gateway)
    chat_id = started.json()["id"]
    assert (await api.client.post(f"/v1/chats/{chat_id}/take", headers=counsellor)).status_code == 200

    close = f"/v1/chats/{chat_id}/close"
    details = {"severity": "S1", "summary": "眠れない夜が続いている"}
    refused = await api.client.post(
        close, json={**details, "municipality_code": ABOLISHED}, headers=counsellor
    )
    assert SUCCESSOR in refused_for(refused, "abolished_municipality")["message"]
    unknown = await api.client.post(close, json={**details, "municipality_code": UNKNOWN}, headers=counsellor)
    refused_for(unknown, "unknown_municipality")
    view = (await api.client.get(f"/v1/web-chats/{chat_id}", headers=gateway)).json()
    assert view["state"] == "active"

    closed = await api.client.post(
        close, json={**details, "municipality_code": SUCCESSOR}, headers=counsellor
    )
    assert closed.status_code == 201, closed.text
    assert closed.json()["municipality_code"] == SUCCESSOR
