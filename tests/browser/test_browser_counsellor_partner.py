"""The people at both ends of a handoff, in the browser, at desktop and at phone width, in Japanese
and English: the counsellor's form lists what is wrong and keeps its text through an expired
session; the case page shows Japan time, labelled, offers only what the state allows, names who
acted and keeps the severity in view; the partner reads the place by name, the needs in words and,
after accepting, the consented risk findings; the inbox follows the handoff's step and its
countdowns are not read out every second. axe-core finds no critical or serious violation."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from support import axe_violations as _axe_violations

from contracts.municipality import register
from web.i18n import load_catalogue
from web.timefmt import japan_time

pytestmark = pytest.mark.e2e

CATALOGUE = load_catalogue()
SERVICE_NAMES = re.compile(r"^(intake|referral|directory|notify)$")


def _accessible(page: Page, ui: Any, name: str) -> None:
    ui.shoot(page, name)
    assert _axe_violations(page) == [], name
    assert ui.overflow(page) <= 1, f"{name}: wider than the viewport"


# Countdowns that sit inside a live region would be read out every second.
COUNTDOWNS_IN_LIVE_REGIONS = """() => [...document.querySelectorAll('time[data-countdown]')]
  .filter(el => el.closest('[aria-live]:not([aria-live=off]), [role=status], [role=log], [role=alert]'))
  .length"""


def _sign_in_here(page: Page, ui: Any, username: str) -> None:
    """Sign in on the sign-in page the browser is on (it carries where to go back to)."""
    page.locator("#username").fill(username)
    page.locator("#password").fill(ui.screens.passwords[username])
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")


def _labelled_japan_time(lang: str, at: str, fmt: str = "datetime") -> str:
    return japan_time(at, fmt, label=CATALOGUE[lang]["time.jst"])


@pytest.mark.parametrize(("phone", "lang"), [(False, "ja"), (True, "en")], ids=["desktop-ja", "phone-en"])
def test_a_counsellor_and_a_partner_follow_one_handoff_in_japan_time_without_losing_a_word(
    ui: Any, partner_factory: Any, phone: bool, lang: str
) -> None:
    m = CATALOGUE[lang]
    partner = partner_factory(topics=("LONELY",))
    partner_user = ui.screens.add_user(f"both-ends-{partner.id[:8]}", "partner", partner.id)

    context = ui.context(phone=phone, lang=lang)
    console = context.new_page()
    errors = ui.watch(console)
    ui.sign_in(console, "counsellor")
    console.goto(f"{ui.url}/console/consultations/new")

    # Sent empty: the summary names each field and links to it.
    console.locator("#consultation-form button[type=submit]").last.click()
    summary = console.locator("#form-errors .error-list")
    expect(summary.get_by_role("link", name=re.compile(re.escape(m["form.topic"])))).to_have_attribute(
        "href", "#topic"
    )
    expect(summary.get_by_role("link", name=re.compile(re.escape(m["form.summary"])))).to_be_visible()
    _accessible(console, ui, f"console-form-errors-{lang}")
    errors.clear()  # the browser logs the deliberate 422 as a failed load

    console.locator("#topic").select_option("LONELY")
    console.locator("#municipality").fill(partner.municipality_code)
    console.locator("input[name=tags][value=HOU]").check()
    console.locator("input[name=safe_place_tonight][value=no]").check()
    console.locator("input[name=protective_factors][value=pet]").check()
    console.locator("input[name=lawful_basis][value=CONSENT]").check()
    for item in ("contact", "summary", "risk"):
        console.locator(f"input[name=consent_items][value={item}]").check()
    console.locator("#consent_method").select_option("recorded_line")
    text = f"(試験) 今夜泊まる場所がない {partner.id[:6]}"
    console.locator("#summary").fill(text)
    console.locator("#contact_name").fill(f"試験 一郎{partner.id[:6]}")

    # The session ends while the counsellor writes: sending leads to sign-in, not to a 405, and
    # signing in again brings back the same form with everything typed.
    context.add_cookies([{"name": "tsunagu_session", "value": "expired", "url": ui.url}])
    console.locator("#consultation-form button[type=submit]").last.click()
    expect(console.locator("#session-expired")).to_be_visible()
    assert "/login" in console.url and "expired=1" in console.url
    _accessible(console, ui, f"sign-in-expired-{lang}")
    _sign_in_here(console, ui, "counsellor")
    expect(console.locator(".draft-note")).to_contain_text(m["js.draft_restored"])
    expect(console.locator("#summary")).to_have_value(text)
    expect(console.locator("#topic")).to_have_value("LONELY")
    expect(console.locator("input[name=safe_place_tonight][value=no]")).to_be_checked()
    expect(console.locator("#computed-severity")).to_contain_text("S3")
    console.locator("#consultation-form button[type=submit]").last.click()

    # The case page: recorded, the draft gone, times in Japan time with their label.
    expect(console.locator("[data-draft-done]")).to_be_visible()
    recorded = console.locator("dd time").first
    at = recorded.get_attribute("datetime") or ""
    expect(recorded).to_have_text(_labelled_japan_time(lang, at))
    assert (
        console.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('tsunagu.draft.'))")
        == []
    )
    expect(console.locator("#case-head .severity")).to_contain_text("S3")
    assert console.locator("#case-head").evaluate("el => getComputedStyle(el).position") == "sticky"
    # The place by name; the timeline is not a live region (its countdown would be read out).
    expect(console.locator("dl.facts")).to_contain_text(
        register().display_name(partner.municipality_code) or ""
    )
    assert console.locator("#timeline").get_attribute("aria-live") is None
    assert console.evaluate(COUNTDOWNS_IN_LIVE_REGIONS) == 0
    expect(console.locator("#timeline-status")).to_have_attribute("aria-live", "polite")
    timeline = console.locator("#timeline")
    expect(timeline).to_contain_text(m["state.offered"], timeout=30_000)
    for actor in console.locator(".timeline-actor").all_inner_texts():
        assert not SERVICE_NAMES.match(actor.strip()), actor
    expect(timeline.locator(".timeline-actor").first).to_have_text(re.compile(r"\S"))
    first = timeline.locator(".timeline-item time").first
    expect(first).to_have_text(_labelled_japan_time(lang, first.get_attribute("datetime") or "", "seconds"))
    # Offered: the counsellor may withdraw it, and nothing else. (The steps offered are those of
    # the state the page was drawn in; on a slow machine that was still "requested".)
    console.reload()
    expect(console.locator("form[action$='/withdraw']")).to_have_count(1)
    _accessible(console, ui, f"console-case-offered-{lang}")

    portal_context = ui.context(phone=not phone, lang=lang)
    portal = portal_context.new_page()
    portal_errors = ui.watch(portal)
    ui.sign_in(portal, partner_user)
    card = portal.locator(".handoff-card").first
    expect(card).to_contain_text("S3", timeout=30_000)
    place = register().display_name(partner.municipality_code) or ""
    expect(card).to_contain_text(place)
    expect(card.locator(".chip[data-code=HOU]")).to_have_text(m["tag.HOU"])
    offered = card.locator("time").last
    expect(offered).to_have_text(_labelled_japan_time(lang, offered.get_attribute("datetime") or "", "short"))
    assert portal.locator("#inbox").get_attribute("aria-live") is None
    assert portal.evaluate(COUNTDOWNS_IN_LIVE_REGIONS) == 0
    expect(card.locator("time[data-countdown]")).not_to_be_empty()
    _accessible(portal, ui, f"portal-inbox-{lang}")

    card.locator("a.button-small").click()
    expect(portal.locator("#acknowledge")).to_be_visible()
    _accessible(portal, ui, f"portal-handoff-offered-{lang}")
    # Declining asks for a reason and picks none for the partner ("no capacity" would mark the
    # organisation full): pressing decline without choosing is stopped by the browser.
    assert portal.locator("#reason").input_value() == ""
    portal.locator("form[action$='/decline'] button[type=submit]").click()
    assert portal.locator("#reason").evaluate("select => select.validity.valueMissing")
    expect(portal.locator("#acknowledge")).to_be_visible()
    portal.locator("#acknowledge").click()
    expect(portal.locator("[data-draft-done]")).to_be_visible()
    expect(portal.locator("#acknowledge")).to_have_count(0)  # answered: no second answer offered

    # After accepting, the findings the consent covers come with the contact details.
    portal.locator("#show-contact").click()
    disclosed = portal.locator("#disclosed")
    expect(disclosed).to_contain_text(f"試験 一郎{partner.id[:6]}")
    expect(disclosed.locator(".findings")).to_contain_text(
        f"{m['risk.flag.safe_place_tonight']}: {m['form.no']}"
    )
    expect(disclosed).to_contain_text(m["protective.pet"])
    # Before 面談, 同行支援 is not offered.
    assert portal.locator("#stage option").evaluate_all("os => os.map(o => o.value)") == [
        "contacted",
        "closed",
    ]
    _accessible(portal, ui, f"portal-handoff-disclosed-{lang}")

    portal.locator("#stage").select_option("contacted")
    portal.locator("form[action$='/outcome'] button[type=submit]").click()
    expect(portal.locator("[data-draft-done]")).to_be_visible()
    assert portal.locator("#stage option").evaluate_all("os => os.map(o => o.value)") == [
        "accompanied",
        "closed",
    ]
    portal.locator("#stage").select_option("closed")
    portal.locator("#outcome").select_option("supported")
    portal.locator("form[action$='/outcome'] button[type=submit]").click()
    expect(portal.locator("[data-draft-done]")).to_be_visible()
    expect(portal.locator("#stage")).to_have_count(0)  # closed: nothing left to record
    history = portal.locator("section[aria-labelledby=history-heading]")
    expect(history).to_contain_text(m["outcome.supported"])
    _accessible(portal, ui, f"portal-handoff-closed-{lang}")

    # The inbox follows the handoff past 受諾 to its end.
    portal.goto(f"{ui.url}/portal")
    card = portal.locator(".handoff-card").first
    expect(card.locator(".state")).to_have_text(m["state.closed"], timeout=30_000)
    expect(card).to_contain_text(m["outcome.supported"])

    # The counsellor's timeline names the organisation and the partner who acted, by name.
    expect(timeline).to_contain_text(m["state.closed"], timeout=30_000)
    expect(timeline).to_contain_text(partner_user)
    # Its status line said so once the state changed (and says nothing while a countdown ticks).
    expect(console.locator("#timeline-status")).to_contain_text(m["state.closed"])
    console.reload()
    expect(console.locator("form[action$='/withdraw']")).to_have_count(0)  # closed: nothing to withdraw

    assert errors == []
    assert portal_errors == []
    context.close()
    portal_context.close()
