"""The failed-handoff screens' rules: what the operator's search sends to the directory, how an
organisation is shown to be called (phone, hours), the colleague's view of a case (codes, no
personal data), and every word of them in both languages."""

import pytest

from web.api.directory import Organisation
from web.api.referral import ReferralSummary
from web.directory_form import CAPABILITIES
from web.i18n import load_catalogue
from web.rescue import HANDLED_REASONS, PROBLEMS, candidate_of, hours_of, search_of
from web.timeline import colleague_view

CATALOGUE = load_catalogue()


def test_with_no_search_yet_the_cases_own_area_is_searched_among_active_organisations() -> None:
    search = search_of({}, default_area="131041")
    assert search.params() == {"active": "true", "page": 1, "per_page": 20, "municipality_code": "131041"}


def test_an_empty_area_searches_the_whole_country_and_unknown_codes_are_never_sent_on() -> None:
    search = search_of(
        {"area": "", "q": " よりそい ", "org_type": "DROP TABLE", "capability": "SHELTER", "page": "x"},
        default_area="131041",
    )
    assert search.params() == {
        "active": "true",
        "page": 1,
        "per_page": 20,
        "q": "よりそい",
        "capability": "SHELTER",
    }
    assert search_of({"area": "13104"}, default_area="131041").area == ""


def test_an_organisation_is_shown_with_a_dialable_number_its_hours_once_and_whether_it_was_tried() -> None:
    organisation = Organisation.model_validate(
        {
            "id": "5b0c1c3e-0000-4000-8000-000000000001",
            "name": "よりそい相談室",
            "org_type": "NPO",
            "phone": "03-5555-0199",
            "public_body": False,
            "active": True,
            "last_verified_at": None,
            "verification_stale": None,
            "coverage": ["131041"],
            "channels": ["webhook"],
            "services": [
                {"schedules": [{"byday": "FR,MO,WE", "opens_at": "09:00", "closes_at": "17:00"}]},
                {"schedules": [{"byday": "FR,MO,WE", "opens_at": "09:00", "closes_at": "17:00"}]},
            ],
        }
    )
    shown = candidate_of(organisation, tried={organisation.id})
    assert (shown["phone"], shown["tel"], shown["tried"]) == ("03-5555-0199", "0355550199", True)
    assert shown["hours"] == [{"days": ["MO", "WE", "FR"], "opens": "09:00", "closes": "17:00"}]
    assert hours_of(organisation.model_copy(update={"services": []})) == []


def test_a_colleague_sees_a_cases_codes_and_never_its_contact_or_summary() -> None:
    referral = ReferralSummary.model_validate(
        {
            "id": "r",
            "case_id": "c",
            "created_at": "2026-05-03T03:00:00+00:00",
            "updated_at": "2026-05-03T04:00:00+00:00",
            "severity": "S4",
            "topic": "LONELY",
            "municipality_code": "131041",
            "lawful_basis": "CONSENT",
            "state": "exhausted",
            "organisation_id": None,
            "attempt": 2,
            "deadline_at": None,
        }
    )
    view = colleague_view(referral)
    assert view.model_dump() == {
        "case_id": "c",
        "recorded_at": "2026-05-03T03:00:00+00:00",
        "severity": "S4",
        "topic": "LONELY",
        "municipality_code": "131041",
        "lawful_basis": "CONSENT",
    }


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_word_of_the_failed_handoff_screens_is_in_the_catalogue(lang: str) -> None:
    messages = CATALOGUE[lang]
    keys = [f"reason.{r}" for r in HANDLED_REASONS] + [f"ops.rescue.problem.{p}" for p in PROBLEMS]
    keys += [f"ops.rescue.cap.{c}" for c in CAPABILITIES]
    keys += [f"state.{s}" for s in ("reoffer_requested", "reoffer_refused", "handled_elsewhere")]
    keys += [f"ops.rescue.done.{d}" for d in ("reoffer_requested", "handled_elsewhere")]
    keys += ["case.colleague", "attention.title", "attention.announce", "attention.next"]
    assert [k for k in keys if not messages.get(k, "").strip()] == []
