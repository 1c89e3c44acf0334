"""Every screen, signed in as its role, at desktop and phone width, in Japanese and English:
no script errors, landmarks and labels for screen readers, keyboard access, and a screenshot."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'))
  .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""


def _check(page: Page, ui: Any, name: str, errors: list[str]) -> None:
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    assert page.evaluate(UNLABELLED) == [], f"{name}: form fields without a label"
    # Nothing wider than the screen: a phone never scrolls sideways.
    assert ui.overflow(page) <= 1, f"{name}: wider than the viewport"
    ui.shoot(page, name)
    assert errors == [], f"{name}: {errors}"


def _visit(ui: Any, user: str | None, paths: dict[str, str], *, phone: bool, lang: str = "ja") -> None:
    context, page, errors = ui.open(user, phone=phone, lang=lang)
    for name, path in paths.items():
        answer = page.goto(f"{ui.url}{path}")
        assert answer is not None and answer.status == 200, f"{path}: HTTP {answer and answer.status}"
        page.wait_for_load_state("networkidle") if not path.startswith(
            ("/ops", "/console", "/portal")
        ) else None
        _check(page, ui, name if lang == "ja" else f"{name}-en", errors)
    context.close()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_screen_renders_accessibly_at_desktop_and_phone_width(
    ui: Any, system: Any, partner_factory: Any, phone: bool
) -> None:
    partner = partner_factory(topics=("LONELY",))
    partner_user = ui.screens.add_user(f"screens-{partner.id[:8]}", "partner", partner.id)
    _visit(ui, None, {"landing": "/", "sign-in": "/login", "chat": "/chat"}, phone=phone)
    _visit(
        ui,
        "counsellor",
        {
            "console-queue": "/console",
            "console-new-consultation": "/console/consultations/new",
            "console-cases": "/console/cases",
        },
        phone=phone,
    )
    _visit(
        ui,
        partner_user,
        {"portal-inbox-empty": "/portal", "portal-organisation": "/portal/organisation"},
        phone=phone,
    )
    _visit(
        ui,
        "operator",
        {
            "ops-dashboard": "/ops",
            "ops-dead-letter-queue": "/ops/dead-letters",
            "ops-voice-menu": "/ops/voice-menu",
            "ops-directory": "/ops/directory",
        },
        phone=phone,
    )


def test_the_screens_switch_to_english_and_remember_it(ui: Any) -> None:
    context = ui.context()
    page = context.new_page()
    page.goto(f"{ui.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Chat with a counsellor")).to_be_visible()
    page.goto(f"{ui.url}/chat")
    expect(page.get_by_role("heading", level=1)).to_have_text("Chat with a counsellor")
    expect(page.get_by_role("complementary", name="Emergency numbers")).to_contain_text("#9999")
    ui.shoot(page, "chat-en")
    context.close()
    _visit(ui, "operator", {"ops-dashboard": "/ops"}, phone=False, lang="en")


def test_the_sign_in_form_is_usable_with_the_keyboard_alone(ui: Any) -> None:
    context = ui.context()
    page = context.new_page()
    page.goto(f"{ui.url}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(f"{ui.url}/login")
    # The username field has the focus on arrival.
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("operator")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(ui.screens.passwords["operator"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{ui.url}/ops")
    # A wrong password says so without telling which part was wrong.
    context.close()
    context = ui.context()
    page = context.new_page()
    page.goto(f"{ui.url}/login")
    page.get_by_label("ユーザー名").fill("operator")
    page.get_by_label("パスワード").fill("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("ユーザー名またはパスワードが違います")
    context.close()


def test_roles_see_only_their_own_screens(ui: Any) -> None:
    context = ui.context()
    page = context.new_page()
    ui.sign_in(page, "counsellor")
    for path in ("/ops", "/ops/dead-letters", "/portal"):
        answer = page.goto(f"{ui.url}{path}")
        assert answer is not None and answer.status == 403, path
    expect(page.get_by_role("navigation", name="メインメニュー")).not_to_contain_text("ダッシュボード")
    context.close()
