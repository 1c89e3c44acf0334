"""A failed handoff is not a dead end, on the running system: a serious case every organisation lets
pass is exhausted; the operator offers it to an organisation of their choosing (one the ranking
would not have chosen: it covers another area), which is alerted by the usual signed webhook as
the next attempt, in the case's one trace — and accepts it.

Every organisation the ranking offers the case to declines at once (the test mints each one's
partner token), so the test does not wait out deadlines.
"""

from typing import Any

import httpx
from conftest import Receiver, System
from support import PersonalData, consultation_body, fresh_municipality_code, wait_until


def _referral(system: System, referral_id: str) -> dict[str, Any]:
    with system.client("referral", "operator") as referral:
        body: dict[str, Any] = referral.get(f"/v1/referrals/{referral_id}").json()
    return body


def _decline_until_exhausted(system: System, referral_id: str) -> None:
    """Each organisation the ranking offers the case to declines it, until none is left."""
    for _ in range(12):
        current = _referral(system, referral_id)
        if current["state"] == "exhausted":
            return
        if current["state"] not in ("offered", "notified"):
            wait_until(lambda: _referral(system, referral_id)["state"] != "requested", 30, "an offer")
            continue
        org = current["organisation_id"]
        token = system.stack.mint_token("partner", f"e2e-decliner-{org[:8]}", org)
        answer = httpx.post(
            f"{system.urls['referral']}/v1/referrals/{referral_id}/attempts/{current['attempt']}/decline",
            json={"reason": "not_eligible"},  # "no_capacity" would mark it full
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.status_code in (200, 409), answer.text
    raise AssertionError(f"referral {referral_id} was never exhausted")


def test_an_exhausted_case_offered_by_the_operator_reaches_the_chosen_partner_as_the_next_attempt(
    system: System,
    receiver: Receiver,
    partner_factory,  # type: ignore[no-untyped-def]
    personal_data: PersonalData,
) -> None:
    chosen = partner_factory()  # covers a fresh area of its own: the ranking never picks it here
    area = fresh_municipality_code()
    with system.client("intake", "counsellor") as intake:
        # What the person needs, told in the consultation, must reach the chosen organisation too.
        needs = {"need_tags": ["HOU", "MON"], "age_band": "30-64", "language": "vi"}
        recorded = intake.post("/v1/consultations", json=consultation_body(personal_data, area, **needs))
    assert recorded.status_code == 201, recorded.text
    case_id = recorded.json()["case_id"]
    with system.client("referral", "counsellor") as referral:
        wait_until(lambda: bool(referral.get("/v1/referrals", params={"case_id": case_id}).json()), 30)
        referral_id = referral.get("/v1/referrals", params={"case_id": case_id}).json()[0]["id"]

    _decline_until_exhausted(system, referral_id)
    exhausted = _referral(system, referral_id)
    assert {"reoffered", "handled_elsewhere"} <= set(exhausted["actions"])
    assert receiver.for_case(case_id) == []

    with system.client("referral", "operator") as referral:
        asked = referral.post(f"/v1/referrals/{referral_id}/reoffer", json={"organisation_id": chosen.id})
    assert asked.status_code == 202, asked.text

    receiver.wait_for(lambda: len(receiver.for_case(case_id)) >= 1, timeout=30)
    [alert] = receiver.for_case(case_id)
    assert alert.signature_ok and alert.organisation_id == chosen.id
    assert alert.json["attempt"] == exhausted["attempt"] + 1
    assert alert.json["links"]["acknowledge"]
    assert {field: alert.json[field] for field in needs} == needs  # unchanged across every hop
    for value in personal_data.all():
        assert value not in alert.body.decode("utf-8")

    accepted = httpx.post(
        f"{system.urls['referral']}/v1/referrals/{referral_id}/attempts/{alert.json['attempt']}/acknowledge",
        headers={"Authorization": f"Bearer {chosen.token}"},
        timeout=10,
    )
    assert accepted.status_code == 200, accepted.text
    timeline = _referral(system, referral_id)["timeline"]
    remaining = iter(entry["state"] for entry in timeline)
    wanted = ["exhausted", "reoffer_requested", "matched", "offered", "acknowledged"]
    assert all(state in remaining for state in wanted), [entry["state"] for entry in timeline]
    trace_ids = {entry["trace_id"] for entry in timeline}
    assert trace_ids == {alert.headers["traceparent"].split("-")[1]}
