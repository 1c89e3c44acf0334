"""What the bot says, in the person's language: the consent question, the crisis numbers, and the
closing message that fits the recorded outcome. Pure rules, no I/O."""

import dataclasses

import pytest

from contracts.vocabulary import LawfulBasis, Severity
from intake.chat.language import Farewell, Language, has_acute_risk, language_of
from intake.chat.speech import TEXTS, consent_lines, farewell_for, farewell_lines, texts_for
from intake.chat.web_service import wait_minutes
from intake.consent.domain import ConsentItem


def test_every_language_says_everything_and_repeats_the_emergency_numbers() -> None:
    assert set(TEXTS) == set(Language)
    for language, texts in TEXTS.items():
        for field in dataclasses.fields(texts):
            value = getattr(texts, field.name)
            assert value, (language, field.name)
        assert set(texts.consent_items) == set(ConsentItem), language
        assert set(texts.handoff_when) == {Farewell.HANDOFF_S4, Farewell.HANDOFF_S3, Farewell.HANDOFF_S2}
        for said in (texts.crisis, texts.tonight, texts.next_steps):
            assert "110" in said and "119" in said and "#9999" in said and "0120-494-949" in said, language
        assert "{when}" in texts.handoff, language
        assert len(texts.agree) <= 20 and len(texts.disagree) <= 20, language  # LINE's button limit


def test_an_unknown_or_missing_language_is_answered_in_japanese() -> None:
    assert language_of("EN ") is Language.EN
    assert language_of("xx") is Language.JA and language_of(None) is Language.JA
    assert texts_for("fr") is TEXTS[Language.JA]


@pytest.mark.parametrize(
    "text",
    [
        "もう死にたい",
        "消えたいです",
        "I want to die",
        "我想死",
        "죽고 싶어요",
        "Quiero morir",
        "मर्न मन लाग्यो",
    ],
)
def test_words_of_acute_risk_are_recognised_in_the_languages_offered(text: str) -> None:
    assert has_acute_risk(text)


@pytest.mark.parametrize("text", ["眠れない夜が続いています", "I feel lonely", "", None])
def test_ordinary_words_are_not_taken_for_acute_risk(text: str | None) -> None:
    assert not has_acute_risk(text)


def test_the_consent_question_names_what_is_shared_with_whom_and_why() -> None:
    lines = consent_lines(TEXTS[Language.JA], {ConsentItem.SUMMARY, ConsentItem.CONTACT})
    assert "お名前・電話番号・住所" in lines[0] and "ご相談の内容の要約" in lines[0]
    assert "いまの危険" not in lines[0]
    assert lines[1].startswith("伝える先") and lines[2].startswith("目的") and "いいえ" in lines[3]


def test_the_closing_message_follows_the_outcome() -> None:
    assert farewell_for(Severity.S4, LawfulBasis.CONSENT) is Farewell.HANDOFF_S4
    assert farewell_for(Severity.S3, LawfulBasis.CONSENT) is Farewell.HANDOFF_S3
    assert farewell_for(Severity.S1, None) is Farewell.NEXT_STEPS
    handoff = farewell_lines(TEXTS[Language.EN], Farewell.HANDOFF_S4)
    assert handoff[0].startswith(
        "A support organisation in your area will contact you. Usually within an hour."
    )
    assert "tonight" in handoff[1]
    assert farewell_lines(TEXTS[Language.EN], None) == (TEXTS[Language.EN].next_steps,)


def test_the_wait_estimate_is_what_recent_people_waited_or_nothing() -> None:
    assert wait_minutes([]) is None
    assert wait_minutes([10.0]) == 1
    assert wait_minutes([60.0, 250.0, 900.0]) == 5
