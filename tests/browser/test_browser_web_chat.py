"""A person chats from the web chat page on a phone and a counsellor answers from the console."""

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_a_person_chats_from_the_web_chat_page_and_the_counsellor_answers(ui: Any) -> None:
    words = f"夜になると眠れず、誰とも話せていません {uuid.uuid4().hex[:6]}"
    person_context = ui.context(phone=True)
    person = person_context.new_page()
    person_errors = ui.watch(person)
    person.goto(f"{ui.url}/chat")
    # The emergency numbers are on screen before anything else is done.
    emergency = person.get_by_role("complementary", name="緊急連絡先")
    expect(emergency).to_contain_text("110")
    expect(emergency).to_contain_text("119")
    expect(emergency).to_contain_text("#9999")
    ui.shoot(person, "chat-topics")

    person.get_by_role("button", name="孤独・孤立の悩み").click()
    status = person.locator("#chat-status")
    expect(status).to_contain_text("順番待ち")
    person.get_by_label("メッセージ").fill(words)
    person.get_by_role("button", name="送信").click()
    expect(person.locator("#chat-log")).to_contain_text(words)
    ui.shoot(person, "chat-waiting")

    # The page keeps its chat's id (and key) in sessionStorage, so a reload resumes the same chat.
    person.wait_for_function("() => sessionStorage.getItem('tsunagu-chat') !== null")
    chat_id = person.evaluate("() => JSON.parse(sessionStorage.getItem('tsunagu-chat')).chat_id")
    assert isinstance(chat_id, str) and chat_id, chat_id

    counsellor_context = ui.context()
    counsellor = counsellor_context.new_page()
    counsellor_errors = ui.watch(counsellor)
    ui.sign_in(counsellor, "counsellor")
    counsellor.goto(f"{ui.url}/console")
    # Other chats may be waiting too (the stack is shared): the counsellor takes this person's.
    take = counsellor.locator(f'form[action="/console/chats/{chat_id}/take"] button')
    expect(take).to_be_visible(timeout=30_000)
    expect(take).to_contain_text("このチャットを担当する")
    take.click()
    counsellor.wait_for_url(re.compile(rf"/console/chats/{re.escape(chat_id)}(\?.*)?$"))
    # The room's log fills from its socket, which polls intake: slow on a busy machine, so no guess.
    expect(counsellor.locator("#chat-log")).to_contain_text(words, timeout=30_000)
    ui.shoot(counsellor, "console-chat-room")

    reply = f"お話しくださってありがとうございます。今夜はどこで過ごしますか {uuid.uuid4().hex[:4]}"
    counsellor.get_by_label("メッセージ").fill(reply)
    counsellor.get_by_role("button", name="送信").click()

    expect(person.locator("#chat-log")).to_contain_text(reply, timeout=15_000)
    expect(status).to_contain_text("相談員とつながりました")
    ui.shoot(person, "chat-connected")

    assert person_errors == []
    assert counsellor_errors == []
    person_context.close()
    counsellor_context.close()
