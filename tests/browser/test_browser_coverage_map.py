"""The operator plans a campaign night on the coverage map: picks a need and a moment, reads the map
of Japan, opens a prefecture from the map with the keyboard, downloads the CSV — at desktop and
phone width, with no critical or serious axe-core violation."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from support import axe_violations as _axe_violations

pytestmark = pytest.mark.e2e

# 2027-05-03 is 憲法記念日: public offices are shut, so the map shows who is really there at 02:00.
HOLIDAY = "2027-05-03"


def test_the_operator_reads_the_coverage_map_for_a_holiday_night_and_opens_a_prefecture(ui: Any) -> None:
    context, page, errors = ui.open("operator")
    page.goto(f"{ui.url}/ops")
    page.get_by_role("link", name="カバー状況マップ(キャンペーン計画)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("カバー状況マップ")

    page.get_by_label("日付").fill(HOLIDAY)
    page.get_by_label("時刻(日本時間 JST)").select_option("2")
    page.get_by_label("相談の種類").select_option(label="外国語")
    page.get_by_label("言語(外国語の相談のみ)").select_option(label="ベトナム語 (vi)")
    page.get_by_role("button", name="表示").click()

    expect(page.locator("#cov-map-heading")).to_contain_text("2027-05-03 02:00 日本時間(JST)")
    expect(page.locator("#cov-map-heading")).to_contain_text("外国語 · ベトナム語 (vi)")
    map_links = page.locator("svg[aria-labelledby='cov-map-title'] a")
    expect(map_links).to_have_count(47)
    # Colour is not the only signal: each prefecture's link says its state and numbers, and the
    # breakdown table beside the map has them as text.
    expect(map_links.first).to_have_attribute(
        "aria-label", re.compile(r"^北海道: .+\(\d+か所中\d+か所が対応可・受付中\)$")
    )
    expect(page.get_by_role("table").nth(1).locator("tbody tr")).to_have_count(47)
    ui.shoot(page, "ops-coverage-map")

    # Tokyo from the map, by keyboard alone.
    tokyo = page.get_by_role("link", name=re.compile("^東京都: "))
    tokyo.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"prefecture=13"))
    municipalities = page.locator("#municipalities")
    expect(municipalities.get_by_role("heading", level=2)).to_contain_text("東京都の市区町村")
    expect(municipalities.locator("tbody tr")).to_have_count(62)
    expect(municipalities.locator("tbody tr", has_text="新宿区")).to_have_count(1)
    assert "date=2027-05-03" in page.url and "hour=2" in page.url and "language=vi" in page.url
    assert _axe_violations(page) == []
    ui.shoot(page, "ops-coverage-map-tokyo")

    csv_link = municipalities.get_by_role("link", name="CSV(東京都)")
    answer = page.request.get(f"{ui.url}{csv_link.get_attribute('href')}")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.body().startswith(b"\xef\xbb\xbf")
    lines = answer.body().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("prefecture_code,prefecture,municipality_code,municipality,coverage")
    assert len(lines) == 1 + 62
    assert errors == []
    context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_coverage_map_fits_a_phone_and_passes_axe_in_both_languages(ui: Any, lang: str) -> None:
    context, page, errors = ui.open("operator", phone=True, lang=lang)
    answer = page.goto(f"{ui.url}/ops/coverage?date={HOLIDAY}&hour=2&need=dv_shelter&prefecture=27")
    assert answer is not None and answer.status == 200

    heading = "Municipalities of 大阪府" if lang == "en" else "大阪府の市区町村"
    expect(page.locator("#municipalities").get_by_role("heading", level=2)).to_contain_text(heading)
    expect(page.locator("#cov-map-heading")).to_contain_text("JST")
    assert ui.overflow(page) <= 1, "wider than the phone's screen"
    assert _axe_violations(page) == []
    ui.shoot(page, "ops-coverage-map" if lang == "ja" else "ops-coverage-map-en")
    assert errors == []
    context.close()
