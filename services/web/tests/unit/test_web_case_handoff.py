"""The case page says in plain words why intake hands a case to no local organisation, and what
the counsellor may do next, from the consultation's `handoff` decision."""

from pathlib import Path
from typing import Any

import jinja2
import pytest

from web import timefmt
from web.api.intake import Consultation
from web.i18n import Translator, load_catalogue
from web.timeline import NO_HANDOFF_REASONS, NoHandoffNote, no_handoff_note

CATALOGUE = load_catalogue()
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "web" / "templates"


def _consultation(handoff: dict[str, Any]) -> Consultation:
    return Consultation.model_validate(
        {
            "case_id": "7c1f0a3e-0000-4000-8000-000000000001",
            "severity": "S3",
            "topic": "LONELY",
            "channel": "phone",
            "municipality_code": "131041",
            "lawful_basis": None,
            "recorded_at": "2026-05-03T03:00:00+00:00",
            "summary": "眠れない夜が続いている",
            "handoff": handoff,
        }
    )


def _note(handoff: dict[str, Any]) -> NoHandoffNote | None:
    return no_handoff_note(_consultation(handoff).handoff)


@pytest.mark.parametrize("reason", NO_HANDOFF_REASONS)
def test_every_reason_intake_gives_has_words_and_a_next_step_in_both_languages(reason: str) -> None:
    note = _note({"opens": False, "reason": reason})
    assert note is not None and note.next is not None
    for lang in ("ja", "en"):
        assert CATALOGUE[lang][note.reason].strip() and CATALOGUE[lang][note.next].strip()


def test_a_refusal_is_said_as_the_person_not_consenting() -> None:
    note = _note({"opens": False, "reason": "consent_refused"})
    assert note is not None and note.tone == "warn" and note.next is not None
    assert CATALOGUE["ja"][note.reason] == "本人が同意しなかったため、地域の団体へはつないでいません。"
    assert "consent" in CATALOGUE["en"][note.next]


def test_a_case_that_is_handed_off_or_whose_handoff_nobody_can_say_has_no_note() -> None:
    assert _note({"opens": True, "reason": None}) is None
    assert no_handoff_note(None) is None  # a colleague's case, read from referral


def test_a_reason_the_console_does_not_know_yet_gets_the_general_sentence() -> None:
    note = _note({"opens": False, "reason": "some_new_reason"})
    assert note is not None and note.reason == "case.no_handoff.other" and note.next is None
    assert all(CATALOGUE[lang][note.reason] for lang in ("ja", "en"))


def _case_page(consultation: Consultation, *, has_referrals: bool, lang: str = "ja") -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    timefmt.install(env)
    return env.get_template("console/case.html").render(
        t=Translator(lang, CATALOGUE[lang]),
        lang=lang,
        user=None,
        csrf_token="",
        path="/console/cases/x",
        consultation=consultation,
        no_handoff=no_handoff_note(consultation.handoff),
        has_referrals=has_referrals,
        timeline_html=f'<p data-state="none">{CATALOGUE[lang]["case.no_referral_yet"]}</p>',
        recorded=False,
        withdrawn=False,
        withdrawable=None,
        js_messages={},
    )


def test_the_case_page_shows_the_reason_instead_of_waiting_for_a_handoff_that_will_not_come() -> None:
    page = _case_page(_consultation({"opens": False, "reason": "consent_refused"}), has_referrals=False)
    assert "本人が同意しなかったため" in page and "同意を記録してください" in page
    assert CATALOGUE["ja"]["case.no_referral_yet"] not in page and 'id="timeline"' not in page

    opened = _case_page(_consultation({"opens": True, "reason": None}), has_referrals=False, lang="en")
    assert 'data-handoff="none"' not in opened and 'id="timeline"' in opened
