"""A failed handoff in Chromium, at desktop width and at 390 px, in Japanese and English, with no
critical or serious axe-core violation on any screen:

- the operator opens a case every organisation let pass, searches the whole directory by name,
  sees the chosen organisation's phone (a link that dials) and hours, offers it the case after a
  confirmation step, and watches the page turn to "offered" while the partner's webhook arrives;
- the operator records another case as handled another way, with a note;
- the counsellor who recorded a case sees, live on the console, that its handoff failed; another
  counsellor opens the same case page (codes and handoff, not the person's details) — not a 404.
"""

import re
import uuid
from typing import Any

import httpx
import pytest
from conftest import Receiver, System
from playwright.sync_api import expect
from support import PersonalData, consultation_body, fresh_municipality_code, wait_until
from support import axe_violations as _axe_violations

from eventkit.testing import repo_root

pytestmark = pytest.mark.e2e

SHOT = repo_root() / "docs" / "screenshots" / "ops-failed-handoff.png"
PHONE_NUMBER = "03-5555-0199"


def _referral(system: System, referral_id: str) -> dict[str, Any]:
    with system.client("referral", "operator") as referral:
        body: dict[str, Any] = referral.get(f"/v1/referrals/{referral_id}").json()
    return body


def _exhausted_case(system: System, personal_data: PersonalData, code: str) -> tuple[str, str]:
    """A serious case recorded by the demo counsellor in `code` (where the test registered a
    partner: a fresh stack may have no sample directory yet) that every ranked organisation
    declines at once (the test mints each one's partner token): (case id, referral id), exhausted."""
    token = system.stack.mint_token("counsellor", "counsellor")
    recorded = httpx.post(
        f"{system.urls['intake']}/v1/consultations",
        json=consultation_body(personal_data, code),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert recorded.status_code == 201, recorded.text
    case_id = recorded.json()["case_id"]
    found: list[dict[str, Any]] = []

    def opened() -> bool:
        with system.client("referral", "operator") as referral:
            found[:] = referral.get("/v1/referrals", params={"case_id": case_id}).json()
        return bool(found) and found[0]["state"] != "requested"

    wait_until(opened, 30, "the referral's first offer")
    referral_id = found[0]["id"]
    for _ in range(12):
        current = _referral(system, referral_id)
        if current["state"] == "exhausted":
            return case_id, referral_id
        assert current["state"] in ("offered", "notified"), current
        org = current["organisation_id"]
        partner = system.stack.mint_token("partner", f"e2e-decliner-{org[:8]}", org)
        httpx.post(
            f"{system.urls['referral']}/v1/referrals/{referral_id}/attempts/{current['attempt']}/decline",
            json={"reason": "not_eligible"},  # "no_capacity" would mark it full
            headers={"Authorization": f"Bearer {partner}"},
            timeout=10,
        )
    raise AssertionError("the referral was never exhausted")


@pytest.fixture
def callable_partner(system: System, receiver: Receiver) -> Any:
    """An organisation with a desk phone and weekday hours, in an area of its own, alerted by webhook."""
    org_id = str(uuid.uuid4())
    name = f"E2Eよりそい相談室 {org_id[:6]}"
    with system.client("directory") as directory:
        response = directory.put(
            f"/v1/organisations/{org_id}",
            json={
                "name": name,
                "org_type": "NPO",
                "coverage": [fresh_municipality_code()],
                "topics": ["LONELY"],
                "webhook_url": f"{receiver.url}/hooks/{org_id}",
                "phone": PHONE_NUMBER,
                "capabilities": ["INTERVIEW", "ACCOMPANY"],
                "schedules": [{"byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "21:00"}],
            },
        )
        assert response.status_code in (200, 201), response.text
    with system.client("notify") as notify:
        secret = notify.post(f"/v1/partners/{org_id}/webhook-secret")
        assert secret.status_code == 201, secret.text
        receiver.secrets[org_id] = secret.json()["secret"]
    yield {"id": org_id, "name": name}
    with system.client("directory") as directory:
        directory.delete(f"/v1/organisations/{org_id}")


def test_the_operator_finds_an_organisation_calls_it_and_offers_it_an_exhausted_case(
    ui: Any,
    system: System,
    receiver: Receiver,
    personal_data: PersonalData,
    callable_partner: Any,
    partner_factory: Any,
) -> None:
    case_id, referral_id = _exhausted_case(system, personal_data, partner_factory().municipality_code)
    context = ui.context()
    page = context.new_page()
    errors = ui.watch(page)
    ui.sign_in(page, "operator")

    page.goto(f"{ui.url}/ops/referrals/{referral_id}")
    expect(page.locator("[data-rescue=open]")).to_contain_text("打診したすべての団体が受け入れず")
    expect(page.get_by_role("heading", name="団体を探して依頼する")).to_be_visible()
    # The whole directory, searched by the server: by name, anywhere in Japan.
    page.get_by_label("地域(6桁の団体コード)").fill("")
    page.get_by_label("団体名").fill(callable_partner["name"])
    page.get_by_role("button", name="検索する").click()
    item = page.locator(f"[data-organisation='{callable_partner['id']}']")
    expect(item).to_be_visible()
    call = item.get_by_role("link", name=re.compile(PHONE_NUMBER))
    expect(call).to_have_attribute("href", "tel:0355550199")
    box = call.bounding_box()
    assert box is not None and box["height"] >= 44
    expect(item).to_contain_text("月・火・水・木・金 09:00–21:00")
    assert _axe_violations(page) == []
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOT), full_page=True)
    ui.shoot(page, "ops-failed-handoff")

    # Offering takes a confirmation step, which shows whom to call once more.
    item.get_by_role("link", name=re.compile("この団体に依頼する")).click()
    expect(page.get_by_role("heading", name="この団体に依頼しますか?")).to_be_visible()
    expect(page.get_by_role("link", name=PHONE_NUMBER)).to_be_visible()
    assert _axe_violations(page) == []
    chosen = callable_partner["id"]
    assert [r for r in receiver.for_case(case_id) if r.organisation_id == chosen] == []
    page.get_by_role("button", name="依頼する").click()

    expect(page.locator("[data-done=reoffer_requested]")).to_be_visible()
    # The page follows the referral live: the directory confirms, the case is offered.
    expect(page.locator("#referral-live article.referral")).to_have_attribute(
        "data-state", re.compile("offered|notified"), timeout=20_000
    )
    expect(page.locator("#rescue")).to_be_hidden()  # nothing left to offer
    receiver.wait_for(
        lambda: any(r.organisation_id == chosen for r in receiver.for_case(case_id)), timeout=30
    )
    [alert] = [r for r in receiver.for_case(case_id) if r.organisation_id == chosen]
    assert alert.signature_ok
    assert _axe_violations(page) == []
    assert errors == []
    context.close()


def test_a_failed_handoff_is_told_to_its_counsellor_readable_by_colleagues_and_closable_by_operators(
    ui: Any, system: System, personal_data: PersonalData, partner_factory: Any
) -> None:
    case_id, referral_id = _exhausted_case(system, personal_data, partner_factory().municipality_code)

    # The counsellor who recorded it sees it on the console, live (390 px, Japanese).
    phone = ui.context(phone=True)
    counsellor = phone.new_page()
    errors = ui.watch(counsellor)
    ui.sign_in(counsellor, "counsellor")
    counsellor.goto(f"{ui.url}/console")
    notice = counsellor.locator(f"[data-attention] [data-case='{case_id}']")
    expect(notice).to_contain_text("候補なし(要対応)", timeout=20_000)
    assert _axe_violations(counsellor) == []
    ui.shoot(counsellor, "console-failed-handoff-notice")

    # Another counsellor opens the case: its codes and handoff, not the person's details.
    colleague_name = f"counsellor-b-{uuid.uuid4().hex[:6]}"
    ui.screens.add_user(colleague_name, "counsellor")
    desk = ui.context(lang="en")
    colleague = desk.new_page()
    ui.sign_in(colleague, colleague_name)
    response = colleague.goto(f"{ui.url}/console/cases/{case_id}")
    assert response is not None and response.status == 200
    expect(colleague.locator("[data-colleague-case]")).to_contain_text("Another counsellor recorded")
    expect(colleague.locator("#timeline")).to_contain_text("Exhausted")
    assert personal_data.summary not in colleague.content()
    assert _axe_violations(colleague) == []

    # The operator records that it was handled another way (390 px, English).
    operator_context = ui.context(phone=True, lang="en")
    operator = operator_context.new_page()
    ui.sign_in(operator, "operator")
    operator.goto(f"{ui.url}/ops/referrals/{referral_id}")
    expect(operator.get_by_role("heading", name="Record that it was handled another way")).to_be_visible()
    assert _axe_violations(operator) == []
    operator.get_by_label("How it was handled").select_option("partner_by_phone")
    operator.get_by_label(re.compile("^Note")).fill("新宿区社協の山田さんが電話で引き受けた")
    operator.get_by_role("button", name="Record as handled").click()
    expect(operator.locator("[data-done=handled_elsewhere]")).to_be_visible()
    expect(operator.locator("[data-rescue=handled]")).to_be_visible()
    assert _referral(system, referral_id)["state"] == "handled_elsewhere"
    assert _axe_violations(operator) == []

    # … and the counsellor's notice goes away by itself.
    expect(counsellor.locator(f"[data-attention] [data-case='{case_id}']")).to_have_count(0, timeout=20_000)
    assert errors == []
    for context in (phone, desk, operator_context):
        context.close()
