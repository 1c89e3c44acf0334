"""The operator reads the handoff reports: a case handed off today (declined by nobody, accepted,
interviewed, accompanied to a welfare office, closed as supported) is counted in today's report, the
charts have their tables, the CSV downloads open in a spreadsheet, the dashboard's counts have no
cap — at desktop and phone width, in Japanese and English, with no critical or serious axe-core
violation."""

import csv
import io
import re
from datetime import datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from support import axe_violations as _axe_violations
from support import consultation_body, wait_until

from contracts.hours import JST
from eventkit.testing import repo_root

pytestmark = pytest.mark.e2e

SCREENSHOT = repo_root() / "docs" / "screenshots" / "ops-reports.png"


@pytest.fixture
def handed_off(system: Any, partner_factory: Any, personal_data: Any) -> str:
    """One case handed off today and answered by its partner through the API, all the way to closing."""
    partner = partner_factory(topics=("LONELY",))
    body = consultation_body(personal_data, partner.municipality_code, severity="S4")
    with system.client("intake", "counsellor") as intake:
        recorded = intake.post("/v1/consultations", json=body)
    assert recorded.status_code in (200, 201, 202), recorded.text
    case_id = recorded.json()["case_id"]
    found: dict[str, Any] = {}

    def offered() -> bool:
        with system.client("referral", "operator") as referral:
            listed = referral.get("/v1/referrals", params={"case_id": case_id}).json()
            if listed:
                found.update(referral.get(f"/v1/referrals/{listed[0]['id']}").json())
        return any(a["state"] in ("offered", "notified") for a in found.get("attempts", []))

    wait_until(offered, timeout=30, what="the case's offer to its partner")
    attempt = next(a for a in found["attempts"] if a["state"] in ("offered", "notified"))
    assert attempt["organisation_id"] == partner.id
    base = f"{system.urls['referral']}/v1/referrals/{found['id']}"
    headers = {"Authorization": f"Bearer {partner.token}"}
    steps = [
        (f"{base}/attempts/{attempt['attempt']}/acknowledge", {}),
        (f"{base}/outcome", {"stage": "contacted"}),
        (f"{base}/outcome", {"stage": "accompanied", "accompanied_to": "welfare_office"}),
        (f"{base}/outcome", {"stage": "closed", "outcome": "supported"}),
    ]
    for url, payload in steps:
        answer = httpx.post(url, json=payload, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
    return str(found["id"])


def _today() -> str:
    return datetime.now(JST).date().isoformat()


def _number(page: Page, table: str, row: str, column: int = 0) -> int:
    cell = page.locator(f"#{table}-table tbody tr", has=page.get_by_role("rowheader", name=row)).locator("td")
    return int(cell.nth(column).inner_text())


def test_the_operator_reads_todays_handoffs_in_charts_and_tables_and_downloads_the_csv(
    ui: Any, handed_off: str
) -> None:
    context, page, errors = ui.open("operator")
    # The dashboard's counts come from an aggregate: no 「200+」 cap.
    page.goto(f"{ui.url}/ops")
    expect(page.locator("#states-heading")).to_be_visible()
    states = page.locator('section[aria-labelledby="states-heading"]').inner_text()
    figures = page.locator('section[aria-labelledby="figures-heading"]').inner_text()
    assert not re.search(r"\d\+", states + figures)

    page.get_by_role("navigation").get_by_role("link", name="レポート").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("引き継ぎレポート")
    page.get_by_label("開始日(日本時間)").fill(_today())
    page.get_by_label("終了日(日本時間、この日を含む)").fill(_today())
    page.get_by_role("button", name="表示").click()
    page.wait_for_url(re.compile(rf"from={_today()}&to={_today()}"))

    # Each chart is an image named by its heading, with its figures as a table.
    for chart in (
        "totals",
        "by_severity",
        "by_prefecture",
        "by_organisation",
        "needed",
        "accompanied",
        "closed",
    ):
        expect(page.locator(f'svg[data-chart="{chart}"]')).to_have_attribute("role", "img")
        expect(page.locator(f"#{chart}-table caption")).not_to_be_empty()
    assert _number(page, "totals", "開始") >= 1
    assert _number(page, "totals", "受諾") >= 1
    assert _number(page, "by_severity", "S4 緊急", column=2) >= 1
    expect(page.locator("#by_severity-table tbody tr")).to_have_count(3)
    assert _number(page, "accompanied", "福祉事務所") >= 1
    assert _number(page, "closed", "支援につながった") >= 1
    expect(page.locator('[data-figure="contacted"]')).to_contain_text("面談")
    assert _axe_violations(page) == []
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    ui.shoot(page, "ops-reports")

    # The CSV a spreadsheet opens: a BOM for Excel, a header, today's rows.
    link = page.locator('a[data-csv="outcomes"]')
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"tsunagu-outcomes-{_today()}_{_today()}.csv"
    content = open(download.path(), "rb").read()  # noqa: SIM115 — read once, closed by the GC
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["from", "to", "milestone", "code", "times", "referrals"]
    welfare = next(row for row in rows if row[2:4] == ["accompanied", "welfare_office"])
    assert int(welfare[5]) >= 1
    for table in ("totals", "acknowledgement", "organisations"):
        answer = page.request.get(f"{ui.url}{page.locator(f'a[data-csv={table!r}]').get_attribute('href')}")
        assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
        assert answer.body().decode("utf-8-sig").splitlines()[0].startswith("from,to,")

    # A period the page cannot report is said plainly, not a server error.
    answer = page.goto(f"{ui.url}/ops/reports?from=2026-05-01&to=2026-04-01")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("alert")).to_contain_text("終了日が開始日より前です。")
    assert errors == []
    context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_reports_fit_a_phone_and_pass_axe_in_both_languages(ui: Any, lang: str, handed_off: str) -> None:
    context, page, errors = ui.open("operator", phone=True, lang=lang)
    answer = page.goto(f"{ui.url}/ops/reports?from={_today()}&to={_today()}")
    assert answer is not None and answer.status == 200
    title = "Handoff reports" if lang == "en" else "引き継ぎレポート"
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("#closed-table tbody tr").first).to_be_visible()
    assert ui.overflow(page) <= 1, "wider than the phone's screen"
    assert _axe_violations(page) == []
    ui.shoot(page, "ops-reports" if lang == "ja" else "ops-reports-en")
    assert errors == []
    context.close()


def test_the_dead_letters_page_shows_the_newest_page_and_pages_back_by_offset(ui: Any) -> None:
    context, page, errors = ui.open("operator", phone=True, lang="en")
    answer = page.goto(f"{ui.url}/ops/dead-letters")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    older = page.get_by_role("link", name=re.compile("^Older dead letters"))
    if older.count():
        older.first.click()
        page.wait_for_url(re.compile(r"topic=.+&before=\d+"))
        expect(page.get_by_role("link", name="Back to the newest")).to_be_visible()
    assert ui.overflow(page) <= 1, "wider than the phone's screen"
    assert _axe_violations(page) == []
    assert errors == []
    context.close()
