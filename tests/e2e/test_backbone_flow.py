"""One serious case travels intake → referral → directory → notify and reaches its partner once."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import PartnerOrg, Receiver, System
from support import PersonalData, consultation_body, wait_until

SERVICE_NAMES = {"intake", "referral", "directory", "notify"}


def _record(system: System, body: dict[str, object], key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    with system.client("intake", "counsellor") as intake:
        return intake.post("/v1/consultations", json=body, headers=headers)


def _trace(system: System, trace_id: str) -> list[dict[str, Any]]:
    """The trace's spans Zipkin holds so far (none while it does not know the trace yet)."""
    response = httpx.get(f"{system.zipkin}/api/v2/trace/{trace_id}", timeout=15)
    spans: list[dict[str, Any]] = response.json() if response.status_code == 200 else []
    return spans


def _is_whole(spans: list[dict[str, Any]]) -> bool:
    """Spans from all four services, with the case's send and process and the match's process.

    Each service exports its spans on its own schedule, so every part is waited for, not only the
    first sign of each service.
    """
    services = {s.get("localEndpoint", {}).get("serviceName") for s in spans}
    names = {str(s.get("name")) for s in spans}
    return (
        services >= SERVICE_NAMES
        and {"send intake.consultations.v1", "process intake.consultations.v1"} <= names
        and any(n.startswith("process directory.matches.v1") for n in names)
    )


def test_a_serious_consultation_reaches_its_local_partner_once_signed_and_as_one_trace(
    system: System,
    receiver: Receiver,
    partner: PartnerOrg,
    personal_data: PersonalData,
) -> None:
    # What the person needs, none of it a default value, must reach the partner as it was told.
    needs = {"need_tags": ["HOU", "MON"], "age_band": "30-64", "language": "vi"}
    response = _record(system, consultation_body(personal_data, partner.municipality_code, **needs))
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    receiver.wait_for(lambda: len(receiver.for_case(case_id)) >= 1)
    time.sleep(2.0)  # anything sent twice would arrive in this window
    receipts = receiver.for_case(case_id)
    assert len(receipts) == 1
    receipt = receipts[0]
    assert receipt.signature_ok and receipt.organisation_id == partner.id
    webhook = receipt.json
    assert webhook["severity"] == "S3" and webhook["municipality_code"] == partner.municipality_code
    assert webhook["organisation_id"] == partner.id and webhook["attempt"] == 1
    assert receipt.headers["tsunagu-delivery-id"] == webhook["delivery_id"]
    assert {field: webhook[field] for field in needs} == needs  # unchanged across every hop
    for value in personal_data.all():
        assert value not in receipt.body.decode("utf-8")

    with system.client("referral", "counsellor") as referral:
        wait_until(
            lambda: (
                [r["state"] for r in referral.get("/v1/referrals", params={"case_id": case_id}).json()]
                == ["notified"]
            ),
            what="the referral's state 'notified'",
        )

    trace_id = receipt.headers["traceparent"].split("-")[1]
    seen: list[dict[str, Any]] = []

    def whole_trace() -> bool:
        seen[:] = _trace(system, trace_id)
        return _is_whole(seen)

    try:
        wait_until(whole_trace, timeout=45, what="one trace with the case's spans from all four services")
    except AssertionError as error:
        got = sorted({f"{s.get('localEndpoint', {}).get('serviceName')}: {s.get('name')}" for s in seen})
        raise AssertionError(f"{error}; spans so far: {got}") from None


def test_a_partner_can_read_its_own_referral_and_not_another_partners(
    system: System,
    receiver: Receiver,
    partner_factory: Callable[..., PartnerOrg],
    personal_data: PersonalData,
) -> None:
    mine = partner_factory()
    other = partner_factory()
    case_id = _record(system, consultation_body(personal_data, mine.municipality_code)).json()["case_id"]
    receiver.wait_for(lambda: len(receiver.for_case(case_id)) == 1)
    referral_id = receiver.for_case(case_id)[0].json["referral_id"]
    base = system.urls["referral"]
    own = httpx.get(f"{base}/v1/referrals/{referral_id}", headers={"Authorization": f"Bearer {mine.token}"})
    assert own.status_code == 200 and own.json()["organisation_id"] == mine.id
    theirs = httpx.get(
        f"{base}/v1/referrals/{referral_id}", headers={"Authorization": f"Bearer {other.token}"}
    )
    assert theirs.status_code == 404
    anonymous = httpx.get(f"{base}/v1/referrals/{referral_id}")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "missing_token"


@pytest.mark.parametrize(
    "overrides",
    # A referral-level case (S2) is handed off only with the person's consent (issue 5).
    [{"severity": "S1"}, {"severity": "S2", "lawful_basis": None}, {"severity": "S3", "lawful_basis": None}],
    ids=["signpost", "referral-level-without-consent", "serious-without-lawful-basis"],
)
def test_a_consultation_that_is_not_serious_or_not_shareable_opens_no_referral_and_sends_nothing(
    system: System,
    receiver: Receiver,
    partner: PartnerOrg,
    personal_data: PersonalData,
    overrides: dict[str, object],
) -> None:
    quiet = _record(system, consultation_body(personal_data, partner.municipality_code, **overrides))
    assert quiet.status_code == 201, quiet.text
    quiet_case = quiet.json()["case_id"]
    # A serious case recorded afterwards in the same area is the witness that the pipeline ran.
    witness = _record(system, consultation_body(personal_data, partner.municipality_code)).json()["case_id"]
    receiver.wait_for(lambda: len(receiver.for_case(witness)) == 1)
    time.sleep(1.0)
    assert receiver.for_case(quiet_case) == []
    with system.client("referral", "counsellor") as referral:
        assert referral.get("/v1/referrals", params={"case_id": quiet_case}).json() == []


def test_a_retried_post_with_the_same_idempotency_key_makes_one_case_and_one_handoff(
    system: System,
    receiver: Receiver,
    partner: PartnerOrg,
    personal_data: PersonalData,
) -> None:
    body = consultation_body(personal_data, partner.municipality_code)
    key = f"e2e-{uuid.uuid4()}"
    first = _record(system, body, key)
    second = _record(system, body, key)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["case_id"] == second.json()["case_id"]
    case_id = first.json()["case_id"]
    receiver.wait_for(lambda: len(receiver.for_case(case_id)) == 1)
    time.sleep(1.5)
    assert len(receiver.for_case(case_id)) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"municipality_code": "131017"}, "body.municipality_code"),
        ({"severity": "S9"}, "body.severity"),
        ({"topic": "UNKNOWN"}, "body.topic"),
        ({"channel": "fax"}, "body.channel"),
        ({"summary": ""}, "body.summary"),
        ({"unexpected": 1}, "body.unexpected"),
    ],
)
def test_bad_input_gets_a_clear_4xx_naming_the_field(
    system: System, personal_data: PersonalData, change: dict[str, object], field: str
) -> None:
    body = consultation_body(personal_data, "131016")
    body.update(change)
    response = _record(system, body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in [d["field"] for d in error["details"]]
    for value in personal_data.all():
        assert value not in response.text


def test_a_partner_token_cannot_record_consultations(
    system: System, partner: PartnerOrg, personal_data: PersonalData
) -> None:
    response = httpx.post(
        f"{system.urls['intake']}/v1/consultations",
        json=consultation_body(personal_data, partner.municipality_code),
        headers={"Authorization": f"Bearer {partner.token}"},
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
