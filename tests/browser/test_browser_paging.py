"""On-call paging from the operator's dashboard: an S4 referral no organisation can take pages the
operator on call; the operator sees the open page (severity, why, when in Japan time, times paged),
presses 「対応します」 / "I'm on it" and the acknowledgement is recorded in notify; the on-call rota
is edited (a weekly shift added in Japan time, then removed). At desktop and phone width, in
Japanese and English, with no critical or serious axe-core violation."""

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect
from support import axe_violations as _axe_violations
from support import wait_until

from contracts.events import OperatorAlertRaised
from contracts.vocabulary import AlertKind, Severity
from eventkit.envelope import encode_payload, new_envelope, to_kafka_headers
from eventkit.kafka import make_producer
from eventkit.testing import repo_root

pytestmark = pytest.mark.e2e

SCREENSHOT = repo_root() / "docs" / "screenshots" / "ops-paging.png"
WORDS = {
    "ja": {
        "nav": "呼び出し",
        "title": "当番の呼び出し",
        "ack": "対応します",
        "acked": "対応を記録しました",
        "added": "当番を追加しました",
        "removed": "当番を削除しました",
        "name": "氏名",
        "email": "業務用メールアドレス",
        "day": "金",
        "starts": "開始(日本時間)",
        "ends": "終了(日本時間)",
        "add": "当番を追加",
        "remove": "削除",
        "when": "22:00–07:00(日本時間)",
    },
    "en": {
        "nav": "Paging",
        "title": "On-call paging",
        "ack": "I'm on it",
        "acked": "Acknowledged",
        "added": "Shift added",
        "removed": "Shift removed",
        "name": "Name",
        "email": "Work e-mail",
        "day": "Fri",
        "starts": "Starts (JST)",
        "ends": "Ends (JST)",
        "add": "Add shift",
        "remove": "Remove",
        "when": "22:00–07:00 JST",
    },
}


async def _raise(servers: str, alert: OperatorAlertRaised) -> None:
    """The alert as directory raises it when nobody at all can take an S4 referral."""
    producer = make_producer(servers, client_id="e2e-browser-paging")
    await producer.start()
    try:
        await producer.send_and_wait(
            alert.TOPIC,
            value=json.dumps(encode_payload(alert)).encode(),
            key=str(alert.case_id).encode(),
            headers=to_kafka_headers(new_envelope(alert).headers()),
        )
    finally:
        await producer.stop()


def _paged(system: Any) -> str:
    """An S4 nobody can take, raised on ops.alerts.v1; the page notify opens for it."""
    referral_id = uuid.uuid4()
    alert = OperatorAlertRaised(
        case_id=uuid.uuid4(),
        alert_id=uuid.uuid4(),
        kind=AlertKind.NO_MATCH,
        referral_id=referral_id,
        severity=Severity.S4,
        raised_by="directory",
        detail=("no_candidates",),
        raised_at=datetime.now(UTC),
    )
    servers = f"127.0.0.1:{system.stack.ports['kafka']}"
    # Playwright's sync API keeps an event loop on this thread: the producer runs on another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _raise(servers, alert)).result()
    found: dict[str, Any] = {}

    def opened() -> bool:
        with system.client("notify", "operator") as notify:
            pages = notify.get("/v1/pages", params={"limit": 500}).json()
        found.update(next((p for p in pages if p["referral_id"] == str(referral_id)), {}))
        return bool(found)

    wait_until(opened, timeout=30, what="notify's page for the S4 nobody can take")
    return str(found["id"])


@pytest.mark.parametrize(("phone", "lang"), [(False, "ja"), (True, "en")], ids=["desktop-ja", "phone-en"])
def test_the_operator_acknowledges_a_page_and_edits_the_on_call_rota(
    ui: Any, system: Any, phone: bool, lang: str
) -> None:
    words = WORDS[lang]
    page_id = _paged(system)
    context, page, errors = ui.open("operator", phone=phone, lang=lang)
    if phone:
        page.goto(f"{ui.url}/ops/paging")
    else:
        page.get_by_role("navigation").get_by_role("link", name=words["nav"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["title"])
    row = page.locator(f'tr[data-page="{page_id}"]')
    expect(row).to_contain_text("S4")
    expect(row).to_contain_text("JST" if lang == "en" else "日本時間")
    assert ui.overflow(page) <= 1, "wider than the viewport"
    assert _axe_violations(page) == []
    if not phone:
        row.scroll_into_view_if_needed()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)
    ui.shoot(page, f"ops-paging-{lang}")

    row.get_by_role("button", name=words["ack"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["acked"])
    expect(page.locator(f'tr[data-page="{page_id}"]')).to_contain_text("operator")
    with system.client("notify", "operator") as notify:
        recorded = notify.get(f"/v1/pages/{page_id}").json()
    assert recorded["state"] == "acknowledged" and recorded["acknowledged_by"] == "operator"

    # The rota: a Friday night shift, in Japan time, then removed again.
    name = f"e2e 当番 {uuid.uuid4().hex[:6]}"
    form = page.locator("form", has=page.locator('input[name="kind"][value="weekly"]'))
    form.get_by_label(words["name"]).fill(name)
    form.get_by_label(words["email"]).fill("e2e-oncall@tsunagu.invalid")
    form.get_by_label(words["day"], exact=True).check()
    form.get_by_label(words["starts"]).fill("22:00")
    form.get_by_label(words["ends"]).fill("07:00")
    form.get_by_role("button", name=words["add"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["added"])
    shift = page.locator("tr[data-shift]", has_text=name)
    expect(shift).to_contain_text(words["when"])
    assert _axe_violations(page) == []
    shift.get_by_role("button", name=words["remove"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["removed"])
    expect(page.locator("tr[data-shift]", has_text=name)).to_have_count(0)
    assert errors == []
    context.close()
