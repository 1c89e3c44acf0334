"""A consultation's answer says whether it is handed off to a local support organisation and, when
it is not, why: from what is stored (level, basis, the person's latest consent decision), wherever
the consultation is read."""

from typing import Any

from ..builders import CONSENT_BODY, consultation_body

Api = Any  # the api fixture of conftest.py
NO_SAFE_PLACE = {"safe_place_tonight": False, "distress": True}  # S3 under the current rules
REFUSAL = {"decision": "refused", "method": "recorded_line", "text_version": "2026-11-v1"}


def body(**changes: Any) -> dict[str, Any]:
    tonight = consultation_body(
        topic="POVERTY", municipality_code="271276", summary="今夜泊まる場所がない、と話す", need_tags=["HOU"]
    )
    return tonight | changes


async def record(api: Api, **changes: Any) -> dict[str, Any]:
    created = await api.client.post(
        "/v1/consultations", json=body(**changes), headers=api.headers("counsellor")
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_a_serious_case_with_consent_says_a_handoff_opens(api: Api) -> None:
    case = await record(api, risk=NO_SAFE_PLACE, consent=CONSENT_BODY)
    assert case["severity"] == "S3"
    assert case["handoff"] == {"opens": True, "reason": None}
    assert case["closed_reason"] is None


async def test_a_case_that_is_not_serious_says_so(api: Api) -> None:
    case = await record(api, severity="S1", lawful_basis="CONSENT")
    assert case["handoff"] == {"opens": False, "reason": "not_serious"}
    assert case["closed_reason"] == "no_handoff"


async def test_a_refusal_is_the_reason_everywhere_the_case_is_read_until_consent_is_recorded(
    api: Api,
) -> None:
    counsellor = api.headers("counsellor")
    case = await record(api, risk=NO_SAFE_PLACE, consent=REFUSAL)
    assert (case["severity"], case["lawful_basis"]) == ("S3", None)
    refused = {"opens": False, "reason": "consent_refused"}
    assert case["handoff"] == refused and case["closed_reason"] == "no_handoff"
    path = f"/v1/consultations/{case['case_id']}"
    assert (await api.client.get(path, headers=counsellor)).json()["handoff"] == refused
    listed = (await api.client.get("/v1/consultations", headers=counsellor)).json()
    assert [c["handoff"] for c in listed] == [refused]

    # The person agrees later: recording the consent opens the handoff and reopens the case.
    agreed = await api.client.patch(path, json={"consent": CONSENT_BODY}, headers=counsellor)
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["handoff"] == {"opens": True, "reason": None}
    assert agreed.json()["closed_reason"] is None and agreed.json()["lawful_basis"] == "CONSENT"


async def test_a_serious_case_without_any_basis_says_none_was_recorded(api: Api) -> None:
    case = await record(api, severity="S3")  # counsellor-only: no assessment, so no basis is demanded
    assert case["handoff"] == {"opens": False, "reason": "no_lawful_basis"}


async def test_a_referral_level_case_under_a_legal_exception_says_consent_is_required(api: Api) -> None:
    case = await record(api, severity="S2", lawful_basis="PUBLIC_BODY_27_1_4")
    assert case["handoff"] == {"opens": False, "reason": "consent_required"}
    assert case["closed_reason"] == "no_handoff"
