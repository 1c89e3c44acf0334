"""A partner keeps its own directory entry current: description, weekly hours and capacity."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_a_partner_edits_its_hours_and_capacity_and_the_directory_keeps_them(
    ui: Any, system: Any, partner_factory: Any
) -> None:
    partner = partner_factory(topics=("LONELY",))
    user = ui.screens.add_user(f"dir-{partner.id[:8]}", "partner", partner.id)
    context = ui.context(phone=True)
    page = context.new_page()
    errors = ui.watch(page)
    ui.sign_in(page, user)
    page.get_by_role("link", name="団体情報").click()
    page.get_by_label("現在の空き").fill("3")
    page.get_by_label("最大").fill("10")
    page.get_by_role("button", name="受け入れ枠を更新").click()
    expect(page.get_by_role("status")).to_contain_text("保存しました")
    expect(page.locator("main")).to_contain_text("現在の空き 3 / 最大 10")

    page.get_by_label("団体・サービスの説明").fill("平日の面談と同行支援を行っています。")
    hours = page.get_by_role("group", name="受付時間 1")
    for day in ("月", "火", "水", "木", "金"):
        hours.get_by_label(day, exact=True).check()
    for day in ("土", "日"):  # the test partner starts open round the clock; weekdays only now
        hours.get_by_label(day, exact=True).uncheck()
    hours.get_by_label("開始").fill("09:00")
    hours.get_by_label("終了").fill("17:30")
    page.get_by_role("button", name="説明と受付時間を保存").click()
    expect(page.get_by_role("status")).to_contain_text("保存しました")
    ui.shoot(page, "portal-organisation-edited")

    with system.client("directory", "operator") as directory:
        saved = directory.get(f"/v1/services/{partner.id}").json()
    assert saved["description"] == "平日の面談と同行支援を行っています。"
    assert saved["capacity"]["available"] == 3 and saved["capacity"]["maximum"] == 10
    assert [(s["byday"], s["opens_at"][:5], s["closes_at"][:5]) for s in saved["schedules"]] == [
        ("MO,TU,WE,TH,FR", "09:00", "17:30")
    ]
    assert errors == []
    context.close()


def test_the_counsellor_finds_the_municipality_by_postal_code(ui: Any) -> None:
    context = ui.context()
    page = context.new_page()
    ui.sign_in(page, "counsellor")
    page.goto(f"{ui.url}/console/consultations/new")
    page.get_by_label("市区町村", exact=True).fill("160-0022")
    expect(page.locator("#municipality-status")).to_contain_text(re.compile("候補 1 件"))
    option = page.locator("#municipality-options option").first
    expect(option).to_have_attribute("value", re.compile(r"^131041 新宿区"))
    context.close()
