"""A partner sees only its own organisation's handoffs, whatever URL it types."""

import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from support import PersonalData, consultation_body, wait_until

pytestmark = pytest.mark.e2e


def _offered_referral(system: Any, case_id: str) -> str:
    found: list[dict[str, Any]] = []

    def offered() -> bool:
        with system.client("referral", "counsellor") as referral:
            found[:] = referral.get("/v1/referrals", params={"case_id": case_id}).json()
        return bool(found) and found[0]["state"] in ("offered", "notified")

    wait_until(offered, timeout=45, what="the referral offered to the partner")
    return str(found[0]["id"])


def test_a_partner_cannot_open_another_partners_handoff_by_changing_the_url(
    ui: Any, system: Any, partner_factory: Any, personal_data: PersonalData
) -> None:
    owner = partner_factory(topics=("LONELY",))
    stranger = partner_factory(topics=("LONELY",))
    owner_user = ui.screens.add_user(f"owner-{owner.id[:8]}", "partner", owner.id)
    stranger_user = ui.screens.add_user(f"stranger-{stranger.id[:8]}", "partner", stranger.id)
    with system.client("intake", "counsellor") as intake:
        response = intake.post(
            "/v1/consultations",
            json=consultation_body(personal_data, owner.municipality_code),
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.text
    referral_id = _offered_referral(system, response.json()["case_id"])

    context = ui.context()
    page = context.new_page()
    ui.sign_in(page, stranger_user)
    # Its own inbox does not list it, and the typed URL answers as if it did not exist.
    page.goto(f"{ui.url}/portal")
    expect(page.locator(f'[data-referral="{referral_id}"]')).to_have_count(0)
    answer = page.goto(f"{ui.url}/portal/handoffs/{referral_id}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_contain_text("表示できません")
    expect(page.locator("main")).not_to_contain_text(personal_data.name)
    ui.shoot(page, "portal-not-yours")
    # Acting on it with a well-formed post (its own valid CSRF token) is refused the same way.
    page.goto(f"{ui.url}/portal")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    posted = page.request.post(
        f"{ui.url}/portal/handoffs/{referral_id}/acknowledge",
        form={"csrf_token": token or "", "attempt": "1"},
        max_redirects=0,
    )
    assert posted.status == 404
    context.close()

    context = ui.context()
    page = context.new_page()
    ui.sign_in(page, owner_user)
    answer = page.goto(f"{ui.url}/portal/handoffs/{referral_id}")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("button", name="受諾する")).to_be_visible()
    context.close()

    # And the screens' own session is what counts: a request without it is sent to sign in.
    anonymous = httpx.get(f"{ui.url}/portal/handoffs/{referral_id}", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
