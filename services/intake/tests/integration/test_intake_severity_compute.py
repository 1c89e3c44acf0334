"""The severity dry run: intake's own rules applied to a risk assessment, nothing stored."""

import uuid
from typing import Any

Api = Any  # the api fixture of conftest.py


async def _count_consultations(api: Api) -> int:
    async with api.pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM consultations"))


async def test_a_suicidal_case_with_intent_is_serious_and_nothing_is_stored(api: Api) -> None:
    before = await _count_consultations(api)
    answered = {
        "q1_wish_to_be_dead": True,
        "q2_suicidal_thoughts": True,
        "q3_method": True,
        "q4_intent": True,
        "q5_plan": False,
        "q6_behaviour": False,
    }
    response = await api.client.post(
        "/v1/severity/compute",
        json={
            "topic": "SUICIDAL",
            "need_tags": ["SUI"],
            "age_band": "30-64",
            "risk": {"cssrs": answered, "can_agree_to_stay_safe": True},
        },
        headers=api.headers("counsellor"),
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["severity"] == "S3"
    assert out["rule_version"] == "2026-11-v1"
    assert "S3.cssrs_high" in out["reasons"]
    assert {c["code"] for c in out["criteria"]} == set(out["reasons"])
    assert out["suicide_involved"] is True
    assert out["mandatory"] == [
        "q1_wish_to_be_dead",
        "q2_suicidal_thoughts",
        "q3_method",
        "q4_intent",
        "q5_plan",
        "q6_behaviour",
    ]
    assert out["missing"] == [] and out["missing_fields"] == []
    assert await _count_consultations(api) == before


async def test_a_missing_mandatory_question_is_listed(api: Api) -> None:
    response = await api.client.post(
        "/v1/severity/compute",
        json={
            "topic": "SUICIDAL",
            "need_tags": [],
            "age_band": "unknown",
            "risk": {"cssrs": {"q1_wish_to_be_dead": True, "q2_suicidal_thoughts": None}},
        },
        headers=api.headers("operator"),
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["severity"] == "S1" and out["reasons"] == ["S1.cssrs_low"]
    assert out["missing"] == ["q2_suicidal_thoughts", "q6_behaviour"]
    assert out["missing_fields"] == ["risk.cssrs.q2_suicidal_thoughts", "risk.cssrs.q6_behaviour"]


async def test_without_a_screener_every_first_question_is_missing(api: Api) -> None:
    response = await api.client.post(
        "/v1/severity/compute",
        json={"topic": "LONELY", "need_tags": ["SUI"], "age_band": "unknown", "risk": {}},
        headers=api.headers("counsellor"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["missing"] == ["q1_wish_to_be_dead", "q2_suicidal_thoughts", "q6_behaviour"]


async def test_invalid_answers_get_the_standard_422(api: Api) -> None:
    response = await api.client.post(
        "/v1/severity/compute",
        json={"topic": "SUICIDAL", "risk": {"free_text": "not allowed"}},
        headers=api.headers("counsellor"),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and "body.risk.free_text" in [
        d["field"] for d in error["details"]
    ], error
    assert "not allowed" not in response.text


async def test_only_staff_may_compute(api: Api) -> None:
    response = await api.client.post(
        "/v1/severity/compute",
        json={"topic": "LONELY"},
        headers=api.headers("partner", organisation_id=uuid.uuid4()),
    )
    assert response.status_code == 403
