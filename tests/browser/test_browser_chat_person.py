"""The person's side of the web chat, end to end in Chromium: emergency numbers that dial, the
language chosen on the first screen, the crisis numbers at once on words of acute risk, the
counsellor joining (title and vibration), the consent question answered with a tap, recording and
ending as separate steps with a closing message that fits the outcome, and a person who ends the
chat while the counsellor is in it — at 390 px and at desktop width, in Japanese and English, with
no critical or serious axe-core violation."""

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from support import axe_violations as _axe_violations

from eventkit.testing import repo_root

pytestmark = pytest.mark.e2e

CLOSING_SHOT = repo_root() / "docs" / "screenshots" / "chat-closing.png"
# Records navigator.vibrate calls: headless Chromium has no motor to feel.
VIBRATE_SPY = (
    "window.__vibrated = []; navigator.vibrate = (p) => { window.__vibrated.push(p); return true; };"
)


def _tappable(page: Page, selector: str) -> None:
    """Every matching link is at least 44×44 CSS pixels."""
    links = page.locator(selector)
    assert links.count() > 0, selector
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, (selector, i, box)


def _chat_id(page: Page) -> str:
    page.wait_for_function("() => sessionStorage.getItem('tsunagu-chat') !== null")
    chat_id = page.evaluate("() => JSON.parse(sessionStorage.getItem('tsunagu-chat')).chat_id")
    assert isinstance(chat_id, str) and chat_id
    return chat_id


def _waiting_card(ui: Any, counsellor: Page, chat_id: str) -> Locator:
    """The card of the waiting chat on the (signed-in) counsellor's console."""
    counsellor.goto(f"{ui.url}/console")
    return counsellor.locator(
        ".card", has=counsellor.locator(f'form[action="/console/chats/{chat_id}/take"]')
    )


def _take(ui: Any, counsellor: Page, chat_id: str) -> None:
    counsellor.goto(f"{ui.url}/console")
    take = counsellor.locator(f'form[action="/console/chats/{chat_id}/take"] button')
    expect(take).to_be_visible(timeout=30_000)
    take.click()
    counsellor.wait_for_url(re.compile(rf"/console/chats/{re.escape(chat_id)}(\?.*)?$"))


def test_a_person_in_crisis_consents_in_the_chat_and_is_told_who_will_call_and_when(ui: Any) -> None:
    person_context = ui.context(phone=True)
    person_context.add_init_script(VIBRATE_SPY)
    person = person_context.new_page()
    person_errors = ui.watch(person)
    person.goto(f"{ui.url}/chat")
    emergency = person.get_by_role("complementary", name="緊急連絡先")
    expect(emergency.locator('a[href="tel:110"]')).to_be_visible()
    expect(emergency.locator('a[href="tel:0120494949"]')).to_be_visible()
    expect(emergency).to_contain_text("#9999")  # as text: iPhones refuse tel:#
    _tappable(person, ".emergency a")
    _tappable(person, ".chat-languages a")
    # The privacy text says what really happens: a local organisation hears only after a yes (or by law).
    expect(person.locator("#chat-start")).to_contain_text("「はい」と答えたとき")
    assert _axe_violations(person) == []

    person.get_by_role("button", name="孤独・孤立の悩み").click()
    expect(person.locator("#chat-status")).to_contain_text("順番待ち")
    expect(person.locator("#chat-wait")).to_contain_text("待ち時間")
    chat_id = _chat_id(person)

    # Japanese input: Enter that confirms a conversion sends nothing.
    person.get_by_label("メッセージ").fill("しにたい")
    person.evaluate(
        """() => {
            const box = document.getElementById('chat-text');
            box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', isComposing: true, bubbles: true}));
            const legacy = new KeyboardEvent('keydown', {key: 'Enter', bubbles: true});
            Object.defineProperty(legacy, 'keyCode', {get: () => 229});
            box.dispatchEvent(legacy);
        }"""
    )
    expect(person.get_by_label("メッセージ")).to_have_value("しにたい")
    person.get_by_label("メッセージ").fill(f"もう消えたいです {uuid.uuid4().hex[:4]}")
    person.get_by_label("メッセージ").press("Enter")
    crisis = person.locator("#chat-crisis")
    expect(crisis).to_be_visible(timeout=15_000)
    expect(crisis.locator('a[href="tel:119"]')).to_be_visible()
    _tappable(person, "#chat-crisis a")
    expect(person.locator("#chat-log")).to_contain_text("ためらわずに電話してください")

    counsellor_context, counsellor, counsellor_errors = ui.open("counsellor")
    card = _waiting_card(ui, counsellor, chat_id)
    expect(card).to_contain_text("危険を示す言葉", timeout=30_000)
    expect(card).to_contain_text("言語:日本語")
    assert _axe_violations(counsellor) == []
    _take(ui, counsellor, chat_id)

    expect(person.locator("#chat-status")).to_contain_text("相談員とつながりました", timeout=15_000)
    expect(person).to_have_title("相談員とつながりました — チャット相談")
    assert person.evaluate("() => window.__vibrated.length") >= 1

    counsellor.get_by_role("button", name="相談者に尋ねる").click()
    consent = person.locator("#chat-consent")
    expect(consent).to_be_visible(timeout=15_000)
    expect(consent).to_contain_text("お名前・電話番号・住所")
    expect(consent).to_contain_text("伝える先:お住まいの地域の支援団体")
    expect(consent).to_contain_text("目的:")
    assert _axe_violations(person) == []
    ui.shoot(person, "chat-consent")
    consent.get_by_role("button", name="はい、伝えてよい").click()
    expect(counsellor.locator("#chat-log")).to_contain_text("ご同意ありがとうございます", timeout=15_000)
    expect(counsellor.locator("#room-consent-answer")).to_contain_text("同意する")  # live, no reload

    # Step one: record. The chat stays open; the room says what ending will send.
    counsellor.goto(f"{ui.url}/console/chats/{chat_id}")
    expect(counsellor.locator("#room-consent-answer")).to_contain_text("同意する")
    counsellor.get_by_role("link", name="相談として記録する").click()
    counsellor.get_by_label("市区町村", exact=True).fill("131041")
    counsellor.get_by_label("住まい").check()
    counsellor.get_by_role("group", name="今夜安全に過ごせる場所がありますか").get_by_label("いいえ").check()
    counsellor.get_by_role("textbox", name="相談内容の要約").fill(
        f"(試験) 今夜泊まる場所がない {chat_id[:6]}"
    )
    counsellor.get_by_role("textbox", name="氏名").fill("試験 二郎")
    counsellor.get_by_role("textbox", name="電話番号").fill("090-1234-5678")
    counsellor.get_by_role("button", name="記録する").click()
    counsellor.wait_for_url(re.compile(rf"/console/chats/{re.escape(chat_id)}\?case="))
    expect(counsellor.locator("#room-recorded")).to_contain_text("相談として記録しました")
    expect(counsellor.locator("#room-end-hint")).to_contain_text("数時間以内")
    expect(person.locator("#chat-text")).to_be_enabled()
    assert _axe_violations(counsellor) == []
    ui.shoot(counsellor, "console-chat-recorded")

    # Step two: end. The person is told who will call, roughly when, and what to do tonight.
    counsellor.get_by_role("button", name="チャットを終える").click()
    log = person.locator("#chat-log")
    expect(log).to_contain_text(
        "お住まいの地域の支援団体から、あなたに連絡が入ります。目安は数時間以内です。", timeout=15_000
    )
    expect(log).to_contain_text("今夜つらさが増したときは")
    expect(person.locator("#chat-text")).to_be_disabled()
    expect(person.get_by_role("button", name="送信")).to_be_disabled()
    assert _axe_violations(person) == []
    CLOSING_SHOT.parent.mkdir(parents=True, exist_ok=True)
    # What the phone shows: the emergency numbers on top, the closing message above the closed box.
    person.locator("#chat-leave").scroll_into_view_if_needed()
    person.screenshot(path=str(CLOSING_SHOT))
    expect(counsellor.locator("#chat-text")).to_be_disabled()

    assert person_errors == []
    assert counsellor_errors == []
    person_context.close()
    counsellor_context.close()


def test_a_person_chooses_chinese_on_the_english_page_and_ends_the_chat_while_the_counsellor_is_in_it(
    ui: Any,
) -> None:
    person_context, person, person_errors = ui.open(lang="en")
    person.goto(f"{ui.url}/chat")
    expect(person.get_by_role("button", name="Loneliness or isolation")).to_be_visible()
    assert _axe_violations(person) == []
    person.get_by_role("link", name="中文").click()
    # The chat's own words and its automatic replies are in the chosen language.
    expect(person.locator("html")).to_have_attribute("lang", "zh")
    expect(person.get_by_role("link", name="中文")).to_have_attribute("aria-current", "true")
    expect(person.get_by_role("complementary", name="紧急联系方式")).to_contain_text("#9999")
    _tappable(person, ".emergency a")
    assert _axe_violations(person) == []
    person.get_by_role("button", name="孤独・孤立的烦恼").click()
    expect(person.locator("#chat-log")).to_contain_text("正在为您连接咨询员", timeout=15_000)
    expect(person.locator("#chat-status")).to_contain_text("排队中")
    chat_id = _chat_id(person)

    counsellor_context, counsellor, counsellor_errors = ui.open("counsellor", phone=True, lang="en")
    card = _waiting_card(ui, counsellor, chat_id)
    expect(card).to_contain_text("Language: Chinese", timeout=30_000)
    _take(ui, counsellor, chat_id)
    expect(person.locator("#chat-status")).to_contain_text("已与咨询员连接", timeout=15_000)

    person.get_by_role("button", name="结束咨询").click()
    expect(person.locator("#chat-status")).to_contain_text("您已结束聊天", timeout=15_000)
    expect(person.locator("#chat-text")).to_be_disabled()
    expect(counsellor.locator("#chat-status")).to_contain_text("The person ended the chat", timeout=15_000)
    expect(counsellor.locator("#chat-text")).to_be_disabled()
    assert _axe_violations(person) == []
    assert _axe_violations(counsellor) == []
    ui.shoot(counsellor, "console-chat-person-left")

    assert person_errors == []
    assert counsellor_errors == []
    person_context.close()
    counsellor_context.close()
