"""Closed loop on the running system: an emergency the first partner ignores moves to the second
after its deadline; the second acknowledges through the signed link in its alert; the case's
timeline tells the whole story in one trace.

The local stack runs referral with short deadlines (deploy/local/stack.py DEMO_DEADLINES: S4 20 s),
so this test waits about that long, on the system's own clock — it cannot inject one.
"""

import re
from datetime import datetime, timedelta

import httpx
from conftest import PartnerOrg, Receipt, Receiver, System
from support import PersonalData, consultation_body, fresh_municipality_code, wait_until

JSON = {"Accept": "application/json"}


def _trace(system: System, trace_id: str) -> list[dict[str, object]]:
    response = httpx.get(f"{system.zipkin}/api/v2/trace/{trace_id}", timeout=5)
    return response.json() if response.status_code == 200 else []


def _is_subsequence(wanted: list[str], states: list[str]) -> bool:
    remaining = iter(states)
    return all(state in remaining for state in wanted)


def test_an_ignored_emergency_moves_to_the_next_partner_which_acknowledges_by_link_in_one_trace(
    system: System,
    receiver: Receiver,
    partner_factory,
    personal_data: PersonalData,  # type: ignore[no-untyped-def]
) -> None:
    area = fresh_municipality_code()
    partners = {p.id: p for p in (partner_factory(code=area), partner_factory(code=area))}
    with system.client("intake", "counsellor") as intake:
        response = intake.post(
            "/v1/consultations", json=consultation_body(personal_data, area, severity="S4")
        )
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    # Attempt 1: whichever partner the directory ranked first gets the alert, and ignores it
    # (the test receiver answers 200, which is receipt, not acceptance).
    receiver.wait_for(lambda: len(receiver.for_case(case_id)) >= 1, timeout=30)
    first: Receipt = receiver.for_case(case_id)[0]
    assert first.signature_ok and first.organisation_id in partners
    alert = first.json
    assert (alert["attempt"], alert["severity"], alert["municipality_code"]) == (1, "S4", area)
    assert alert["deadline_at"] and alert["links"]["acknowledge"]
    for value in personal_data.all():
        assert value not in first.body.decode("utf-8")
    ignored = partners[first.organisation_id]
    second_partner = next(p for p in partners.values() if p.id != ignored.id)
    referral_id = alert["referral_id"]
    trace_id = first.headers["traceparent"].split("-")[1]

    # Its deadline passes: the scheduler expires the attempt and offers the case to the other one.
    receiver.wait_for(
        lambda: any(r.organisation_id == second_partner.id for r in receiver.for_case(case_id)), timeout=60
    )
    second = next(r for r in receiver.for_case(case_id) if r.organisation_id == second_partner.id)
    assert second.signature_ok and second.json["attempt"] == 2
    assert second.headers["traceparent"].split("-")[1] == trace_id
    link = second.json["links"]["acknowledge"]
    assert re.fullmatch(rf"{system.urls['referral']}/v1/acknowledgements/[\w.-]+", link)

    # Opening the link (as a mail scanner would) acknowledges nothing; pressing the button does.
    page = httpx.get(link, timeout=10)
    assert page.status_code == 200 and '<form method="post">' in page.text
    with system.client("referral", "counsellor") as referral:
        assert referral.get(f"/v1/referrals/{referral_id}").json()["state"] in ("offered", "notified")
    pressed = httpx.post(link, headers=JSON, timeout=10)
    assert pressed.status_code == 200, pressed.text
    assert (pressed.json()["state"], pressed.json()["attempt"]) == ("acknowledged", 2)
    assert httpx.post(link, headers=JSON, timeout=10).json()["repeated"] is True

    # The partner that ignored it hears, clearly, that the case was reassigned.
    late = httpx.post(
        f"{system.urls['referral']}/v1/referrals/{referral_id}/attempts/1/acknowledge",
        headers={"Authorization": f"Bearer {ignored.token}"},
        timeout=10,
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "reassigned"
    late_link = httpx.post(alert["links"]["acknowledge"], headers=JSON, timeout=10)
    assert late_link.status_code == 409 and late_link.json()["error"]["code"] == "reassigned"

    # The counsellor's timeline: every step with time, actor and the case's one trace id.
    with system.client("referral", "counsellor") as referral:
        timeline = referral.get(f"/v1/referrals/{referral_id}/timeline").json()
    assert timeline["state"] == "acknowledged"
    states = [entry["state"] for entry in timeline["timeline"]]
    assert _is_subsequence(
        ["requested", "offered", "expired", "escalated", "offered", "acknowledged"], states
    )
    assert {entry["trace_id"] for entry in timeline["timeline"]} == {trace_id}
    acknowledged = timeline["timeline"][states.index("acknowledged")]
    assert (acknowledged["attempt"], acknowledged["organisation_id"]) == (2, second_partner.id)
    assert acknowledged["actor"] == f"link:{second_partner.id}"

    # A partner reads only its own attempts; the portal inbox shows each its own fate.
    mine = httpx.get(
        f"{system.urls['referral']}/v1/referrals/{referral_id}/timeline",
        headers={"Authorization": f"Bearer {ignored.token}"},
        timeout=10,
    ).json()
    assert {entry["attempt"] for entry in mine["timeline"]} <= {1, None}

    def inbox_state(partner_token: str) -> str | None:
        items = httpx.get(
            f"{system.urls['notify']}/v1/portal/inbox",
            headers={"Authorization": f"Bearer {partner_token}"},
            timeout=10,
        ).json()
        return next((item["state"] for item in items if item["referral_id"] == referral_id), None)

    wait_until(lambda: inbox_state(ignored.token) == "reassigned", what="'reassigned' in the ignored inbox")
    wait_until(
        lambda: inbox_state(second_partner.token) == "acknowledged", what="'acknowledged' in the inbox"
    )

    # And Zipkin holds it as one trace: the deadline firing and the click are in it.
    wait_until(
        lambda: (
            {"handoff deadline", "acknowledge handoff by link"}
            <= {str(span.get("name")) for span in _trace(system, trace_id)}
        ),
        timeout=20,
        what="the deadline and the acknowledgement in the case's trace",
    )


def test_a_referral_level_case_with_consent_is_offered_with_a_business_day_deadline(
    system: System,
    receiver: Receiver,
    partner: PartnerOrg,
    personal_data: PersonalData,
) -> None:
    with system.client("intake", "counsellor") as intake:
        response = intake.post(
            "/v1/consultations",
            json=consultation_body(personal_data, partner.municipality_code, severity="S2"),
        )
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    receiver.wait_for(lambda: len(receiver.for_case(case_id)) == 1, timeout=30)
    alert = receiver.for_case(case_id)[0].json
    assert alert["severity"] == "S2"
    with system.client("referral", "counsellor") as referral:
        [found] = referral.get("/v1/referrals", params={"case_id": case_id}).json()
    # One business day of 09:00–17:00 Japan time: never less than the 8 hours it counts.
    offered = datetime.fromisoformat(alert["offered_at"])
    deadline = datetime.fromisoformat(found["deadline_at"])
    assert deadline - offered >= timedelta(hours=8)
    assert deadline == datetime.fromisoformat(alert["deadline_at"])
