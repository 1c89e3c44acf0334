"""The chat page's own words in the languages offered beyond Japanese and English: each file says
everything the person's page says, with the same placeholders as the English catalogue."""

import re

import pytest

from web.chat import CHAT_LANGUAGES, chat_language, chat_messages
from web.i18n import load_catalogue

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("code", [code for code, _ in CHAT_LANGUAGES if code not in ("ja", "en")])
def test_each_chat_language_says_every_word_of_the_persons_page(code: str) -> None:
    english = load_catalogue()["en"]
    words = chat_messages(code)
    assert set(words) == set(chat_messages("zh")), code
    for key, text in words.items():
        assert key in english, key
        assert text and set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), (code, key)
    # The person's page is covered: every topic and the queue, consent and crisis texts.
    assert {"chat.js.position", "chat.js.wait", "chat.crisis_heading", "chat.consent_heading"} <= set(words)
    assert sum(key.startswith("topic.") for key in words) == 9


def test_japanese_and_english_need_no_file_and_an_unknown_choice_keeps_the_pages_language() -> None:
    assert chat_messages("ja") == {} and chat_messages("en") == {} and chat_messages("../en") == {}
    assert (
        chat_language("vi", "ja") == "vi"
        and chat_language("xx", "en") == "en"
        and chat_language(None, "ja") == "ja"
    )
