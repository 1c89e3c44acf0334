"""The closed loop in the browser: the counsellor records a serious consultation, the partner
sees the alert in the portal and acknowledges it, and the counsellor's timeline shows it."""

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_a_serious_consultation_reaches_the_partner_portal_and_the_acknowledgement_shows_in_the_timeline(
    ui: Any, partner_factory: Any
) -> None:
    partner = partner_factory(topics=("LONELY",))
    partner_user = ui.screens.add_user(f"partner-{partner.id[:8]}", "partner", partner.id)

    counsellor_context = ui.context()
    counsellor = counsellor_context.new_page()
    counsellor_errors = ui.watch(counsellor)
    ui.sign_in(counsellor, "counsellor")
    counsellor.get_by_role("navigation").get_by_role("link", name="相談を記録").click()
    ui.shoot(counsellor, "console-consultation-form")

    counsellor.get_by_label("テーマ").select_option("LONELY")
    counsellor.get_by_label("市区町村", exact=True).fill(partner.municipality_code)
    counsellor.get_by_label("住まい").check()
    # No safe place tonight (N2): the rules make it S3, and the preview says so while typing.
    counsellor.get_by_role("group", name="今夜安全に過ごせる場所がありますか").get_by_label("いいえ").check()
    expect(counsellor.locator("#computed-severity")).to_contain_text("S3")
    expect(counsellor.locator("#computed-reasons")).to_contain_text("今夜安全に過ごせる場所がない")
    counsellor.get_by_label("本人の同意").check()
    counsellor.get_by_label("連絡先(氏名・電話・住所)").check()
    counsellor.get_by_label("相談内容の要約").first.check()
    counsellor.get_by_label("同意の取得方法").select_option("recorded_line")
    tag = uuid.uuid4().hex[:6]
    counsellor.get_by_role("textbox", name="相談内容の要約").fill(f"(試験) 今夜泊まる場所がない {tag}")
    counsellor.get_by_role("textbox", name="氏名").fill(f"試験 一郎{tag}")
    counsellor.get_by_role("textbox", name="電話番号").fill("090-1234-5678")
    ui.shoot(counsellor, "console-consultation-form-filled")
    counsellor.get_by_role("button", name="記録する").click()

    expect(counsellor.get_by_role("status")).to_contain_text("記録しました")
    case_url = counsellor.url
    timeline = counsellor.locator("#timeline")
    expect(timeline).to_contain_text("打診中", timeout=30_000)
    ui.shoot(counsellor, "console-case-offered")

    partner_context = ui.context(phone=True)
    portal = partner_context.new_page()
    partner_errors = ui.watch(portal)
    ui.sign_in(portal, partner_user)
    card = portal.locator(".handoff-card").first
    expect(card).to_contain_text("S3", timeout=30_000)
    expect(card.locator("time[data-countdown]")).to_contain_text(re.compile("残り"))
    ui.shoot(portal, "portal-inbox")
    card.get_by_role("link", name=re.compile("詳細を開く")).click()
    ui.shoot(portal, "portal-handoff-offered")
    portal.get_by_role("button", name="受諾する").click()
    expect(portal.get_by_role("status")).to_contain_text("受諾しました")

    # The contact details are released only now, and the page says the access is recorded.
    portal.get_by_role("button", name="連絡先と相談内容を表示する").click()
    expect(portal.locator("#disclosed")).to_contain_text(f"試験 一郎{tag}")
    expect(portal.locator("#disclosed")).to_contain_text("この閲覧は記録されました")
    ui.shoot(portal, "portal-handoff-disclosed")

    portal.get_by_label("段階").select_option("contacted")
    portal.get_by_role("button", name="記録する").click()
    expect(portal.get_by_role("status")).to_contain_text("面談を記録しました")

    # The counsellor's page updates by itself (server-sent events): no reload.
    assert counsellor.url == case_url
    expect(timeline).to_contain_text("受諾", timeout=30_000)
    expect(timeline).to_contain_text("面談済み", timeout=30_000)
    ui.shoot(counsellor, "console-case-acknowledged")

    assert counsellor_errors == []
    assert partner_errors == []
    counsellor_context.close()
    partner_context.close()
