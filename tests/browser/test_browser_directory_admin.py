"""The operator keeps the directory: searches the whole register on the server, registers and edits
an organisation (a wrong age range is refused with the reason, the form keeps what was typed),
confirms the entry (the stale flag goes), exports and imports an HSDS file behind a confirmation
page, deactivates only after a confirmation page, and builds a voice menu whose desk is picked by
the organisation's name; switching the live menu asks first. At desktop and phone width, in
Japanese and English, with no critical or serious axe-core violation."""

import json
import re
import uuid
from typing import Any

import pytest
from conftest import _covered_directly
from playwright.sync_api import expect
from support import axe_violations as _axe_violations
from support import fresh_municipality_code

pytestmark = pytest.mark.e2e


def _covered(system: Any) -> Any:
    """Whether an active organisation covers exactly this municipality (see conftest)."""

    def taken(code: str) -> bool:
        with system.client("directory") as directory:
            return _covered_directly(directory, code)

    return taken


def _organisation(system: Any, organisation_id: str) -> dict[str, Any]:
    with system.client("directory") as directory:
        answer = directory.get(f"/v1/organisations/{organisation_id}")
        assert answer.status_code == 200
        found: dict[str, Any] = answer.json()
        return found


def _deactivate(system: Any, organisation_ids: list[str]) -> None:
    with system.client("directory") as directory:
        for organisation_id in organisation_ids:
            directory.delete(f"/v1/organisations/{organisation_id}")


def test_the_operator_registers_edits_confirms_and_deactivates_an_organisation(ui: Any, system: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    name = f"試験つなぐ窓口{tag}"
    code = fresh_municipality_code(_covered(system))
    created: list[str] = []
    context, page, errors = ui.open()
    try:
        ui.sign_in(page, "operator")
        page.get_by_role("navigation").get_by_role("link", name="団体名簿").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("団体名簿の管理")
        page.get_by_role("link", name="団体を登録").click()

        page.get_by_label("団体名", exact=True).fill(name)
        page.get_by_label("種別").select_option("NPO")
        page.get_by_label("対象地域").fill(code)
        page.get_by_role("group", name="対応テーマ").get_by_label("被災している方").check()
        page.get_by_role("group", name="できること").get_by_label("面談").check()
        page.get_by_role("group", name="できること").get_by_label("同行支援").check()
        page.get_by_label("対象年齢(下限)").fill("30")
        page.get_by_label("対象年齢(上限)").fill("18")
        page.get_by_role("group", name="引き継ぎの連絡方法").get_by_label("連携先ポータル").check()
        page.get_by_role("button", name="保存する").click()

        # The register refuses the age range with its reason; what was typed is still there.
        expect(page.get_by_role("alert")).to_contain_text("minimum_age is above maximum_age")
        expect(page.get_by_label("団体名", exact=True)).to_have_value(name)
        expect(page.get_by_role("group", name="できること").get_by_label("同行支援")).to_be_checked()
        assert _axe_violations(page) == []
        page.get_by_label("対象年齢(上限)").fill("80")
        page.get_by_role("button", name="保存する").click()

        expect(page.get_by_role("status")).to_have_text("保存しました。")
        row = page.locator("tbody tr", has_text=name)
        expect(row).to_have_count(1)
        organisation_id = row.get_attribute("data-organisation")
        assert organisation_id
        created.append(organisation_id)
        # Never confirmed with the organisation: flagged.
        expect(row).to_contain_text("未確認")
        expect(row).to_contain_text("要再確認")
        saved = _organisation(system, organisation_id)
        main = next(s for s in saved["services"] if s["id"] == organisation_id)
        assert (main["minimum_age"], main["maximum_age"]) == (30, 80)
        assert sorted(main["capabilities"]) == ["ACCOMPANY", "INTERVIEW"]
        assert saved["channels"] == ["portal"]

        row.get_by_role("button", name=f"確認済みにする {name}").click()
        expect(page.get_by_role("status")).to_have_text("確認日を記録しました。")
        row = page.locator("tbody tr", has_text=name)
        expect(row).not_to_contain_text("要再確認")
        expect(row.locator("time")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}"))
        assert _organisation(system, organisation_id)["verification_stale"] is False

        # The server searches the whole register: by name, and by capability in its area.
        page.get_by_label("団体名・法人番号・ID").fill(tag)
        page.get_by_role("button", name="検索").click()
        expect(page.locator("#dir-results")).to_have_text("1 団体")
        page.get_by_label("団体名・法人番号・ID").fill("")
        page.get_by_label("都道府県コード").fill(code[:2])
        page.get_by_label("できること").select_option("ACCOMPANY")
        page.get_by_label("テーマ").select_option("DISASTER")
        page.get_by_role("button", name="検索").click()
        expect(page.locator("tbody tr", has_text=name)).to_have_count(1)
        assert "capability=ACCOMPANY" in page.url
        ui.shoot(page, "ops-directory")
        assert _axe_violations(page) == []

        # Edit: the form comes back filled in; hours are added.
        page.locator("tbody tr", has_text=name).get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("団体の編集")
        expect(page.get_by_label("対象年齢(下限)")).to_have_value("30")
        hours = page.get_by_role("group", name="受付時間 1")
        hours.get_by_label("月").check()
        hours.get_by_label("開始").fill("09:00")
        hours.get_by_label("終了").fill("17:00")
        ui.shoot(page, "ops-directory-edit")
        page.get_by_role("button", name="保存する").click()
        expect(page.get_by_role("status")).to_have_text("保存しました。")
        main = next(
            s for s in _organisation(system, organisation_id)["services"] if s["id"] == organisation_id
        )
        assert main["schedules"][0]["byday"] == "MO"

        # Export, then import the same entry renamed — behind a confirmation page.
        answer = page.request.get(f"{ui.url}/ops/directory/export")
        assert answer.status == 200 and "attachment" in answer.headers["content-disposition"]
        exported = answer.json()
        mine = [o for o in exported["organizations"] if o["id"] == organisation_id]
        assert len(mine) == 1 and mine[0]["x_tsunagu"]["last_verified_at"]
        mine[0]["name"] = f"{name}(改称)"
        page.goto(f"{ui.url}/ops/directory/import")
        page.get_by_label("HSDS ファイル(JSON)").set_input_files(
            {
                "name": "register.json",
                "mimeType": "application/json",
                "buffer": json.dumps({"organizations": mine}, ensure_ascii=False).encode(),
            }
        )
        page.get_by_role("button", name="内容を確認する").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("HSDS ファイルを取り込みますか?")
        expect(page.locator("main")).to_contain_text("1 団体を取り込みます")
        assert _organisation(system, organisation_id)["name"] == name  # nothing changed yet
        assert _axe_violations(page) == []
        page.get_by_role("button", name="取り込む").click()
        expect(page.get_by_role("status")).to_contain_text("1 団体を取り込みました")
        assert _organisation(system, organisation_id)["name"] == f"{name}(改称)"
        name = f"{name}(改称)"

        # Deactivation asks first: the first click only shows the confirmation page.
        page.goto(f"{ui.url}/ops/directory?q={organisation_id}")
        page.locator("tbody tr", has_text=name).get_by_role("link", name=f"無効にする {name}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("団体を無効にしますか?")
        assert _organisation(system, organisation_id)["active"] is True
        ui.shoot(page, "ops-directory-confirm")
        assert _axe_violations(page) == []
        page.get_by_role("link", name="やめる").click()
        assert _organisation(system, organisation_id)["active"] is True
        page.locator("tbody tr", has_text=name).get_by_role("link", name=f"無効にする {name}").click()
        page.get_by_role("button", name=re.compile("^無効にする")).click()
        expect(page.get_by_role("status")).to_have_text("無効にしました。")
        assert _organisation(system, organisation_id)["active"] is False
        # The refused save answered 422 (the browser logs it); nothing else went wrong.
        assert [e for e in errors if "status of 422" not in e] == []
        assert len(errors) == 1
    finally:
        _deactivate(system, created)
        context.close()


def test_the_voice_menu_desk_is_picked_by_name_and_going_live_asks_first(ui: Any, system: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    name = f"試験音声窓口{tag}"
    with system.client("directory") as directory:
        registered = directory.post(
            "/v1/organisations",
            json={
                "name": name,
                "org_type": "NPO",
                "coverage": [fresh_municipality_code(_covered(system))],
                "topics": ["DISASTER"],
                "channels": ["portal"],
            },
        )
        assert registered.status_code == 201
        organisation_id = registered.json()["id"]
    with system.client("intake") as intake:
        live = intake.get("/v1/voice-menus/active")
        previous = live.json()["id"] if live.status_code == 200 else None
    context, page, errors = ui.open()
    campaign = f"e2e-dir-{tag}"
    try:
        ui.sign_in(page, "operator")
        page.goto(f"{ui.url}/ops/voice-menu")
        page.get_by_label("キャンペーン").fill(campaign)
        # A name nobody has is refused, naming the row; the form keeps what was typed.
        page.get_by_label("窓口の団体名 1").fill(f"存在しない団体{tag}")
        page.get_by_label("受付窓口 1").fill("03-1234-5678")
        page.get_by_role("button", name="作成する").click()
        expect(page.get_by_role("alert")).to_contain_text(
            f"1 行目: 「存在しない団体{tag}」という有効な団体は名簿にありません"
        )
        expect(page.get_by_label("キャンペーン")).to_have_value(campaign)
        page.get_by_label("窓口の団体名 1").fill(name)
        page.get_by_role("button", name="作成する").click()
        expect(page.get_by_role("status")).to_have_text("新しい版を作成しました。")

        section = page.locator(
            "section.panel", has=page.get_by_role("heading", name=re.compile(f"^{campaign} v1"))
        )
        expect(section.locator("tbody tr").first).to_contain_text(name)
        with system.client("intake") as intake:
            menus = intake.get("/v1/voice-menus", params={"campaign": campaign}).json()
        assert menus[0]["options"][0]["desk"]["organisation_id"] == organisation_id
        ui.shoot(page, "ops-voice-menu")
        assert _axe_violations(page) == []

        # Going live asks first: the confirmation page shows both versions; cancelling changes nothing.
        section.get_by_role("link", name=re.compile("^この版を使用する")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("使用する音声メニューを切り替えますか?")
        expect(page.locator("#menu-new")).to_contain_text(f"{campaign} v1")
        assert _axe_violations(page) == []
        ui.shoot(page, "ops-voice-menu-confirm")
        page.get_by_role("link", name="やめる").click()
        with system.client("intake") as intake:
            assert intake.get("/v1/voice-menus/active").json().get("id") == previous
        section.get_by_role("link", name=re.compile("^この版を使用する")).click()
        page.get_by_role("button", name="この版に切り替える").click()
        expect(page.get_by_role("status")).to_have_text("使用する版を切り替えました。")
        with system.client("intake") as intake:
            assert intake.get("/v1/voice-menus/active").json()["id"] == menus[0]["id"]
        # The refused name answered 422 (the browser logs it); nothing else went wrong.
        assert [e for e in errors if "status of 422" not in e] == []
    finally:
        if previous:
            with system.client("intake") as intake:
                intake.post(f"/v1/voice-menus/{previous}/activate")
        _deactivate(system, [organisation_id])
        context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_directory_screens_fit_a_phone_and_pass_axe_in_both_languages(ui: Any, lang: str) -> None:
    context, page, errors = ui.open("operator", phone=True, lang=lang)
    heading = {"ja": "団体名簿の管理", "en": "Directory administration"}[lang]
    for path in (
        "/ops/directory?stale=true",
        "/ops/directory/new",
        "/ops/directory/import",
        "/ops/voice-menu",
    ):
        answer = page.goto(f"{ui.url}{path}")
        assert answer is not None and answer.status == 200, path
        assert ui.overflow(page) <= 1, f"{path} is wider than the phone's screen"
        assert _axe_violations(page) == [], path
    page.goto(f"{ui.url}/ops/directory?stale=true&active=true")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    deactivate = page.locator("tbody tr").get_by_role("link", name=re.compile("^(無効にする|Deactivate) "))
    if deactivate.count():
        deactivate.first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            {"ja": "団体を無効にしますか?", "en": "Deactivate this organisation?"}[lang]
        )
        assert ui.overflow(page) <= 1
        assert _axe_violations(page) == []
        ui.shoot(page, "ops-directory-confirm" if lang == "ja" else "ops-directory-confirm-en")
    assert errors == []
    context.close()
