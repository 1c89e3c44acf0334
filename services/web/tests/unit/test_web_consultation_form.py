"""The consultation form: its risk answers go to intake as they are, and intake's level is used."""

import pytest

from contracts.vocabulary import Severity
from web import forms, risk

# intake's answer (POST /v1/severity/compute) for the form below: the console computes nothing.
SERIOUS = risk.Computed(Severity.S3, ("S3.no_safe_place_tonight",), (), "2026-11-v1")


def test_the_console_holds_no_rule_table() -> None:
    assert not hasattr(risk, "preview")
    assert not hasattr(risk, "SOCIAL_NEEDS")


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
    parsed = forms.parse(_form(), ["HOU"], ["contact", "summary"], [], SERIOUS)
    assert parsed.ok, parsed.errors
    body = forms.intake_payload(parsed, now_iso="2026-05-03T00:00:00+09:00")
    assert body["municipality_code"] == "131041"
    assert body["need_tags"] == ["HOU"]
    assert body["risk"]["safe_place_tonight"] is False
    assert "severity" not in body  # as computed: intake's rules decide
    assert body["consent"]["items"] == ["contact", "summary"]
    assert body["consent"]["text_version"] == forms.CONSENT_TEXT_VERSION


def test_lowering_the_computed_severity_needs_a_reason() -> None:
    parsed = forms.parse(_form(severity="S1"), [], ["contact"], [], SERIOUS)
    assert parsed.errors.get("lowering_reason") == "form.error.lowering_reason"
    parsed = forms.parse(
        _form(severity="S1", lowering_reason="本人と話し、安全な場所が見つかった"),
        [],
        ["contact"],
        [],
        SERIOUS,
    )
    assert parsed.ok
    body = forms.intake_payload(parsed, now_iso="2026-05-03T00:00:00+09:00")
    assert body["severity"] == "S1" and body["severity_reason"]


def test_raising_needs_no_reason() -> None:
    assert forms.parse(_form(severity="S4", emergency_called="yes"), [], ["contact"], [], SERIOUS).ok


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
    parsed = forms.parse(_form(lawful_basis=""), [], [], [], SERIOUS)
    assert parsed.errors["lawful_basis"] == "form.error.serious_without_basis"
    assert forms.parse(_form(lawful_basis="", confirm_no_sharing="on"), [], [], [], SERIOUS).ok


def test_consent_needs_its_items_and_how_it_was_given() -> None:
    parsed = forms.parse(_form(consent_method=""), [], [], [])
    assert parsed.errors["consent_items"] == "form.error.consent_items"
    assert parsed.errors["consent_method"] == "form.error.required"


def test_the_screener_answers_intake_says_are_missing_are_marked_on_the_form() -> None:
    missing = risk.Computed(Severity.S0, (), ("q1_wish_to_be_dead", "q2_suicidal_thoughts"), "2026-11-v1")
    parsed = forms.parse(_form(topic="SUICIDAL", safe_place_tonight=""), [], ["contact"], [], missing)
    assert parsed.errors["q1_wish_to_be_dead"] == "form.error.cssrs_required"
    assert parsed.errors["q2_suicidal_thoughts"] == "form.error.cssrs_required"


def test_without_intakes_answer_the_form_applies_no_rule_of_its_own() -> None:
    parsed = forms.parse(_form(topic="SUICIDAL"), [], ["contact"], [], None)
    assert parsed.ok, parsed.errors
    assert parsed.computed is None
    body = forms.intake_payload(parsed, now_iso="2026-05-03T00:00:00+09:00")
    assert "severity" not in body and body["risk"]["safe_place_tonight"] is False


def test_intakes_answer_is_read_and_the_request_names_only_valid_codes() -> None:
    computed = risk.Computed.of(
        {"severity": "S3", "reasons": ["S3.cssrs_high"], "missing": [], "rule_version": "2026-11-v1"}
    )
    assert computed.severity is Severity.S3 and computed.reasons == ("S3.cssrs_high",)
    answers = risk.answers_of({"topic": "SUICIDAL", "age_band": "nonsense"}, ["SUI", "NOPE"])
    request = risk.compute_request(answers)
    assert request is not None
    assert request["need_tags"] == ["SUI"] and request["age_band"] == "unknown"
    assert risk.compute_request(risk.answers_of({"topic": ""}, [])) is None
