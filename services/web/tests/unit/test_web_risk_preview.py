"""The console's severity preview follows the scale's criteria, one by one, like intake's table."""

from typing import Any

import pytest

from contracts.vocabulary import Severity
from web import forms, risk

pytestmark = pytest.mark.unit


def _preview(topic: str = "LONELY", tags: tuple[str, ...] = (), **form: Any) -> risk.Preview:
    return risk.preview(risk.answers_of({"topic": topic, **form}, list(tags)))


@pytest.mark.parametrize(
    ("form", "tags", "level", "reason"),
    [
        ({"attempt_in_progress": "yes"}, (), "S4", "S4.attempt_in_progress"),
        (
            {"access_to_means": "yes", "can_agree_to_stay_safe": "no"},
            (),
            "S4",
            "S4.means_and_cannot_stay_safe",
        ),
        ({"violence_now": "yes"}, (), "S4", "S4.violence_now"),
        ({"medical_emergency": "yes"}, (), "S4", "S4.medical_emergency"),
        ({"child_in_immediate_danger": "yes"}, (), "S4", "S4.child_in_immediate_danger"),
        ({"q4_intent": "yes"}, (), "S3", "S3.cssrs_high"),
        ({"q6_behaviour": "yes", "q6_within_3_months": "yes"}, (), "S3", "S3.cssrs_high"),
        ({"safe_place_tonight": "no"}, (), "S3", "S3.no_safe_place_tonight"),
        ({"abuse_needs_shelter": "yes"}, (), "S3", "S3.abuse_needs_shelter"),
        ({"suspected_child_abuse": "yes"}, (), "S3", "S3.suspected_child_abuse"),
        ({"urgent_in_person_help": "yes"}, (), "S3", "S3.urgent_in_person_help"),
        ({"q3_method": "yes"}, (), "S2", "S2.cssrs_moderate"),
        ({"q6_behaviour": "yes", "q6_within_3_months": "no"}, (), "S2", "S2.cssrs_moderate"),
        ({"q1_wish_to_be_dead": "yes"}, ("MON",), "S2", "S2.ideation_with_social_need"),
        ({"no_money_or_food": "yes"}, (), "S2", "S2.no_money_or_food"),
        ({"eviction_or_cutoff_7_days": "yes"}, (), "S2", "S2.eviction_or_cutoff"),
        ({"long_term_hikikomori": "yes"}, (), "S2", "S2.long_term_hikikomori"),
        ({"wants_follow_up": "yes"}, (), "S2", "S2.wants_follow_up"),
        ({"q1_wish_to_be_dead": "yes"}, (), "S1", "S1.cssrs_low"),
        ({"distress": "yes"}, (), "S1", "S1.distress"),
        ({}, ("ISO",), "S1", "S1.needs_information"),
    ],
)
def test_each_criterion_reaches_its_level_with_its_reason(
    form: dict[str, str], tags: tuple[str, ...], level: str, reason: str
) -> None:
    preview = _preview(tags=tags, **form)
    assert preview.severity == Severity(level)
    assert reason in preview.reasons


def test_no_answer_at_all_is_s0() -> None:
    assert _preview().severity is Severity.S0


def test_a_minor_with_a_referral_level_need_is_serious() -> None:
    preview = _preview(age_band="12-17", no_money_or_food="yes")
    assert preview.severity is Severity.S3
    assert "S3.minor_at_risk" in preview.reasons


def test_behaviour_of_unknown_date_counts_as_recent() -> None:
    assert _preview(q6_behaviour="yes").severity is Severity.S3


def test_q1_and_q2_are_asked_whenever_suicide_is_involved_and_follow_the_screeners_skips() -> None:
    assert _preview(topic="SUICIDAL").missing == (
        "q1_wish_to_be_dead",
        "q2_suicidal_thoughts",
        "q6_behaviour",
    )
    assert _preview(tags=("SUI",)).missing[:2] == ("q1_wish_to_be_dead", "q2_suicidal_thoughts")
    after_yes = _preview(topic="SUICIDAL", q1_wish_to_be_dead="yes", q2_suicidal_thoughts="yes")
    assert after_yes.missing == ("q3_method", "q4_intent", "q5_plan", "q6_behaviour")
    assert _preview(topic="LONELY").missing == ()


def test_the_risk_body_is_codes_and_booleans_in_intakes_field_names() -> None:
    answers = risk.answers_of(
        {"topic": "SUICIDAL", "q1_wish_to_be_dead": "yes", "safe_place_tonight": "no", "distress": "yes"},
        ["SUI"],
        ["family", "not-a-factor"],
    )
    body = answers.risk_body()
    assert body["cssrs"]["q1_wish_to_be_dead"] is True
    assert body["cssrs"]["q2_suicidal_thoughts"] is None
    assert body["safe_place_tonight"] is False
    assert body["can_agree_to_stay_safe"] is None
    assert body["distress"] is True and body["violence_now"] is False
    assert body["protective_factors"] == ["family"]
    assert all(isinstance(v, (bool, type(None), dict, list)) for v in body.values())


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "channel": "phone",
        "topic": "LONELY",
        "municipality": "131041 新宿区 (東京都)",
        "summary": "夜に眠れない",
        "safe_place_tonight": "no",
        "lawful_basis": "CONSENT",
        "consent_method": "recorded_line",
    }
    form.update(overrides)
    return form


def test_a_complete_serious_form_becomes_intakes_request() -> None:
    parsed = forms.parse(_form(), ["HOU"], ["contact", "summary"], [])
    assert parsed.ok, parsed.errors
    body = forms.intake_payload(parsed, now_iso="2026-05-03T00:00:00+09:00")
    assert body["municipality_code"] == "131041"
    assert body["need_tags"] == ["HOU"]
    assert body["risk"]["safe_place_tonight"] is False
    assert "severity" not in body  # as computed: intake's rules decide
    assert body["consent"]["items"] == ["contact", "summary"]
    assert body["consent"]["text_version"] == forms.CONSENT_TEXT_VERSION


def test_lowering_the_computed_severity_needs_a_reason() -> None:
    parsed = forms.parse(_form(severity="S1"), [], ["contact"], [])
    assert parsed.errors.get("lowering_reason") == "form.error.lowering_reason"
    parsed = forms.parse(
        _form(severity="S1", lowering_reason="本人と話し、安全な場所が見つかった"), [], ["contact"], []
    )
    assert parsed.ok
    body = forms.intake_payload(parsed, now_iso="2026-05-03T00:00:00+09:00")
    assert body["severity"] == "S1" and body["severity_reason"]


def test_raising_needs_no_reason() -> None:
    assert forms.parse(_form(severity="S4", emergency_called="yes"), [], ["contact"], []).ok


def test_an_emergency_needs_the_110_or_119_call_recorded() -> None:
    parsed = forms.parse(_form(severity="S4"), [], ["contact"], [])
    assert parsed.errors.get("emergency_called") == "form.error.emergency_call"


@pytest.mark.parametrize(
    ("municipality", "error"),
    [
        ("", "form.error.municipality"),
        ("新宿区", "form.error.municipality"),
        ("131042", "form.error.check_digit"),
    ],
)
def test_the_municipality_must_be_a_valid_code(municipality: str, error: str) -> None:
    assert forms.parse(_form(municipality=municipality), [], ["contact"], []).errors["municipality"] == error


def test_a_serious_case_without_a_basis_must_be_confirmed() -> None:
    parsed = forms.parse(_form(lawful_basis=""), [], [], [])
    assert parsed.errors["lawful_basis"] == "form.error.serious_without_basis"
    assert forms.parse(_form(lawful_basis="", confirm_no_sharing="on"), [], [], []).ok


def test_consent_needs_its_items_and_how_it_was_given() -> None:
    parsed = forms.parse(_form(consent_method=""), [], [], [])
    assert parsed.errors["consent_items"] == "form.error.consent_items"
    assert parsed.errors["consent_method"] == "form.error.required"


def test_the_screener_answers_are_mandatory_on_a_suicide_case() -> None:
    parsed = forms.parse(_form(topic="SUICIDAL"), [], ["contact"], [])
    assert parsed.errors["q1_wish_to_be_dead"] == "form.error.cssrs_required"
