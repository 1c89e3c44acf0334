"""The screens' small rules for counsellors and partners: one Japan-time helper for every time shown,
where sign-in leads back after a session expired mid-form, the error summary's entries, and which
risk findings a partner reads."""

from datetime import UTC, datetime

import jinja2
import pytest
from starlette.requests import Request

from web import timefmt
from web.deps import sign_in_location
from web.forms import FieldError, field_error, form_address
from web.i18n import Translator, load_catalogue
from web.risk import Finding, findings

CATALOGUE = load_catalogue()


def test_an_alert_raised_at_05_27_utc_reads_14_27_japan_time_with_its_label() -> None:
    assert timefmt.japan_time("2026-12-04T05:27:00Z", "time", label="{time} JST") == "14:27 JST"
    assert timefmt.japan_time("2026-12-04T05:27:00+00:00") == "2026-12-04 14:27 JST"
    # Past midnight in Japan it is already the next day.
    assert timefmt.japan_time(datetime(2026, 12, 4, 15, 30, tzinfo=UTC), label=None) == "2026-12-05 00:30"
    assert timefmt.japan_time(None) == "" and timefmt.japan_time("") == ""


@pytest.mark.parametrize(("lang", "shown"), [("ja", "14:27(日本時間)"), ("en", "14:27 JST")])
def test_the_jst_filter_labels_the_time_in_the_screens_language(lang: str, shown: str) -> None:
    env = jinja2.Environment(autoescape=True)
    timefmt.install(env)
    page = env.from_string('{{ at | jst("time") }}|{{ at | jst("time", false) }}')

    assert page.render(at="2026-12-04T05:27:00Z", t=Translator(lang, CATALOGUE[lang])) == f"{shown}|14:27"


def _request(method: str, path: str, *, query: str = "", referer: str | None = None) -> Request:
    headers = [(b"host", b"tsunagu.example")]
    if referer is not None:
        headers.append((b"referer", referer.encode()))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": headers,
        "scheme": "https",
        "server": ("tsunagu.example", 443),
    }
    return Request(scope)


def test_a_page_asked_for_without_a_session_is_where_sign_in_leads_back() -> None:
    request = _request("GET", "/console/consultations/new", query="chat=abc")

    assert sign_in_location(request) == "/login?next=/console/consultations/new%3Fchat%3Dabc"


def test_a_form_sent_after_the_session_expired_leads_back_to_its_form_not_to_the_post_address() -> None:
    sent = _request(
        "POST",
        "/console/consultations",
        referer="https://tsunagu.example/console/consultations/new?chat=abc",
    )
    assert sign_in_location(sent) == "/login?expired=1&next=/console/consultations/new%3Fchat%3Dabc"

    elsewhere = _request("POST", "/console/consultations", referer="https://evil.example/phish")
    assert sign_in_location(elsewhere) == "/login?expired=1"
    assert sign_in_location(_request("POST", "/console/consultations")) == "/login?expired=1"


def test_the_error_summary_names_each_field_by_its_label_and_links_to_it() -> None:
    assert field_error("summary", "form.error.required") == FieldError(
        "summary", "form.summary", "form.error.required"
    )
    assert field_error("q3_method", "form.error.cssrs_required").anchor == "q-q3_method"
    assert field_error("q3_method", "form.error.cssrs_required").label == "cssrs.q3_method"
    assert field_error("lawful_basis", "form.error.invalid").anchor == "lawful_basis-error"
    for name in ("summary", "municipality", "topic", "lawful_basis", "consent_items", "emergency_called"):
        label = field_error(name, "form.error.invalid").label
        assert all(label in CATALOGUE[lang] for lang in ("ja", "en")), label


def test_a_partner_reads_the_released_findings_most_urgent_first_and_nothing_unanswered() -> None:
    released = {
        "access_to_means": True,
        "no_money_or_food": True,
        "distress": False,
        "safe_place_tonight": False,
        "can_agree_to_stay_safe": None,
        "cssrs": {"q1_wish_to_be_dead": True, "q2_suicidal_thoughts": False, "q3_method": None},
        "protective_factors": ["pet", "not-a-factor"],
    }

    shown, protective = findings(released)

    assert shown == (
        Finding("risk.flag.access_to_means"),
        Finding("risk.flag.no_money_or_food"),
        Finding("risk.flag.safe_place_tonight", "no"),
        Finding("cssrs.q1_wish_to_be_dead", "yes"),
        Finding("cssrs.q2_suicidal_thoughts", "no"),
    )
    assert protective == ("protective.pet",)
    assert all(f.key in CATALOGUE[lang] for f in shown for lang in ("ja", "en"))
    assert findings(None) == ((), ())


def test_the_forms_post_address_opened_as_a_page_leads_to_the_form_for_the_same_chat() -> None:
    chat = "0b5cbc75-f802-402c-ae85-fbb8da70c188"

    assert form_address({"chat": chat}) == f"/console/consultations/new?chat={chat}"
    assert form_address({"chat": "not-an-id", "other": "x"}) == "/console/consultations/new"
    assert form_address({}) == "/console/consultations/new"
