"""The screens read the services' answers as web's typed models (web.api), by attribute: the
timeline, the partner's inbox, handoff page and own entry, the operator's dashboard, paging, voice
menu and register pages and the counsellor's failed-handoff notice render from parsed answers, and
an answer with fields web does not read still parses."""

from pathlib import Path
from typing import Any

import jinja2

from web import risk, timefmt
from web.api import directory, intake, notify, referral
from web.api.notify import Alert
from web.api.referral import Referral
from web.attention import FailedHandoff
from web.i18n import Translator, load_catalogue
from web.operator import Flagged
from web.portal import CaseFacts
from web.timeline import SERVICE_ACTORS

CATALOGUE = load_catalogue()
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "web" / "templates"
ORGANISATION = "5b0c1c3e-0000-4000-8000-000000000001"
REFERRAL_ID = "9a1d2c3e-0000-4000-8000-000000000002"

REFERRAL: dict[str, Any] = {
    "id": REFERRAL_ID,
    "case_id": "7c1f0a3e-0000-4000-8000-000000000003",
    "state": "offered",
    "topic": "LONELY",
    "municipality_code": "131041",
    "severity": "S3",
    "lawful_basis": "CONSENT",
    "organisation_id": ORGANISATION,
    "attempt": 1,
    "deadline_at": "2026-05-03T05:27:00Z",
    "created_at": "2026-05-03T03:00:00Z",
    "updated_at": "2026-05-03T03:00:01Z",
    "reasons": [],
    "a_field_web_does_not_read": {"added": "later"},
    "attempts": [
        {
            "attempt": 1,
            "organisation_id": ORGANISATION,
            "state": "offered",
            "offered_at": "2026-05-03T03:00:01Z",
            "deadline_at": "2026-05-03T05:27:00Z",
            "ended_at": None,
            "decline_reason": None,
            "via": None,
        }
    ],
    "timeline": [
        {
            "state": "offered",
            "at": "2026-05-03T03:00:01Z",
            "actor": f"link:{ORGANISATION}",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "attempt": 1,
            "organisation_id": ORGANISATION,
            "detail": {"reason": "capacity"},
        }
    ],
    "actions": ["acknowledged", "declined"],
}


def _render(template: str, lang: str = "ja", **values: Any) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    timefmt.install(env)
    context = {"t": Translator(lang, CATALOGUE[lang]), "lang": lang, "user": None, "csrf_token": "c"}
    return env.get_template(template).render(**context, path="/", js_messages={}, **values)


def test_a_referral_with_a_field_web_does_not_read_parses_and_its_timeline_names_the_organisation() -> None:
    found = referral.REFERRAL.parse(REFERRAL)
    assert found.trace_ids == ["4bf92f3577b34da6a3ce929d0e0e4736"]
    html = _render(
        "partials/timeline.html",
        referrals=[found],
        names={ORGANISATION: "よりそい相談室"},
        people={},
        service_actors=SERVICE_ACTORS,
        trace_url=lambda trace_id: f"/trace/{trace_id}",
    )
    assert html.count("よりそい相談室") == 3  # the attempt, the entry and the link's actor
    assert "14:27" in html and 'href="/trace/4bf92f3577b34da6a3ce929d0e0e4736"' in html


def _handoff_page(found: Referral, case: CaseFacts, **values: Any) -> str:
    """The partner's handoff page of this referral, its latest attempt the partner's own."""
    shown: dict[str, Any] = {"done": "", "problem": "", "disclosure": None, "findings": (), "protective": ()}
    shown |= {"open_states": ("offered", "notified"), "accepted_states": (), "decline_reasons": ["capacity"]}
    shown |= {"stages": [], "outcome_codes": [], "accompanied_to": ()}
    return _render(
        "portal/handoff.html", referral=found, mine=found.attempts[-1], case=case, **shown | values
    )


def test_the_partner_reads_the_offer_its_deadline_and_the_steps_referral_allows() -> None:
    found = referral.REFERRAL.parse(REFERRAL)
    case = CaseFacts(municipality_name="東京都新宿区", need_tags=["HOUSING"], age_band=None, language=None)
    html = _handoff_page(found, case)
    assert 'name="attempt" value="1"' in html and 'id="acknowledge"' in html
    assert "東京都新宿区" in html and 'data-code="HOUSING"' in html and "14:27" in html


def test_the_partners_inbox_shows_each_alert_by_attribute() -> None:
    alert = Alert.model_validate(
        {
            "referral_id": REFERRAL_ID,
            "attempt": 1,
            "topic": "LONELY",
            "municipality_code": "131041",
            "municipality_name": "東京都新宿区",
            "severity": "S3",
            "need_tags": ["HOUSING"],
            "age_band": "30-64",
            "language": "ja",
            "offered_at": "2026-05-03T03:00:01Z",
            "deadline_at": "2026-05-03T05:27:00Z",
            "overdue": False,
            "state": "offered",
            "accompanied_to": None,
            "outcome": None,
        }
    )
    html = _render("partials/inbox.html", inbox={"items": [alert]})
    assert f'href="/portal/handoffs/{REFERRAL_ID}"' in html and "東京都新宿区" in html
    assert 'data-code="HOUSING"' in html and "14:27" in html


def test_the_paging_page_lists_open_pages_and_the_rota_from_notifys_answers() -> None:
    pages = notify.PAGES.parse(
        [
            {
                "id": "11111111-0000-4000-8000-000000000001",
                "kinds": ["exhausted"],
                "referral_id": REFERRAL_ID,
                "severity": "S4",
                "raised_at": "2026-05-03T05:27:00Z",
                "state": "triggered",
                "rounds": 2,
                "acknowledged_at": None,
                "acknowledged_by": None,
            }
        ]
    )
    shift: dict[str, Any] = {
        "id": "22222222-0000-4000-8000-000000000002",
        "name": "当番 花子",
        "email": "hanako@example.jp",
    }
    shift |= {"starts_at": None, "ends_at": None, "on_call_now": True, "created_by": "op"}
    rota = notify.ROTA.parse(
        {"shifts": [shift | {"kind": "weekly", "weekdays": [1, 2], "starts": "09:00", "ends": "17:00"}]}
    )
    html = _render("ops/paging.html", pages=pages, rota=rota, weekdays=(1, 2), done="", problem="")
    assert f'href="/ops/referrals/{REFERRAL_ID}">{REFERRAL_ID[:8]}</a>' in html
    assert "/ops/paging/11111111-0000-4000-8000-000000000001/acknowledge" in html
    assert 'data-shift="22222222-0000-4000-8000-000000000002"' in html and "当番 花子" in html
    assert 'id="add-weekly"' in html and 'id="add-cover"' in html
    assert 'name="kind" value="weekly"' in html and 'id="c-email"' in html


def test_the_counsellor_is_told_of_a_failed_handoff_with_its_area_and_a_link_to_the_case() -> None:
    item = FailedHandoff(
        case_id=REFERRAL["case_id"],
        state="exhausted",
        severity="S3",
        topic="LONELY",
        area="東京都新宿区",
        since="2026-05-03T05:27:00Z",
    )
    html = _render("partials/attention.html", items=[item])
    assert f'href="/console/cases/{item.case_id}"' in html and "東京都新宿区" in html and "14:27" in html


def test_the_partners_own_entry_shows_its_hours_capacity_and_blank_rows_to_add_hours() -> None:
    schedule = {"byday": "MO,TU", "opens_at": "09:00", "closes_at": "17:00"}
    service = directory.SERVICE.parse(
        {
            "id": ORGANISATION,
            "name": "よりそい相談室",
            "status": "active",
            "description": "電話と面談",
            "coverage": ["131041"],
            "topics": ["LONELY"],
            "capabilities": [],
            "languages": ["ja"],
            "minimum_age": None,
            "maximum_age": None,
            "genders": [],
            "residency": "any",
            "capacity": {"available": 3, "maximum": 5, "updated": "2026-05-03T05:27:00Z"},
            "schedules": [schedule],
        }
    )
    organisation = {"name": "よりそい相談室", "org_type": "NPO", "active": True}
    html = _render(
        "portal/organisation.html",
        organisation=organisation,
        service=service,
        schedules=[*service.schedules, None, None],
        done="",
        problem="",
    )
    assert 'name="byday_0" value="MO" checked' in html and 'value="09:00"' in html
    assert (
        'name="byday_1" value="MO" >' in html and 'id="opens_2" name="opens_2" type="time" value=""' in html
    )
    assert "電話と面談" in html and "14:27" in html


def test_the_accepting_partner_reads_what_intake_released_and_the_risk_findings_it_covers() -> None:
    accepted = REFERRAL | {"state": "acknowledged", "actions": ["contacted"]}
    accepted["attempts"] = [accepted["attempts"][0] | {"state": "acknowledged"}]
    found = referral.REFERRAL.parse(accepted)
    released = intake.DISCLOSURE.parse(
        {
            "items": ["contact", "risk"],
            "withheld": ["summary"],
            "contact": {"name": "山田 花子", "phone": "090-0000-0000", "address": None},
            "summary": None,
            "risk": {"access_to_means": True, "cssrs": {"q1_wish_to_be_dead": True}},
            "municipality_code": "131041",
        }
    )
    findings, protective = risk.findings(released.risk)
    unknown = CaseFacts(municipality_name=None, need_tags=None, age_band=None, language=None)
    html = _handoff_page(
        found, unknown, stages=["contacted"], disclosure=released, findings=findings, protective=protective
    )
    assert "山田 花子" in html and "090-0000-0000" in html and 'id="findings-heading"' in html
    assert CATALOGUE["ja"]["risk.flag.access_to_means"] in html
    assert CATALOGUE["ja"]["consent.item.summary"] in html  # named among what was withheld


def test_both_voice_menu_pages_show_each_digits_desk_and_the_switch_asks_first() -> None:
    desk = {"organisation_id": ORGANISATION, "number": "+81355550199"}
    menu = intake.VOICE_MENU.parse(
        {
            "id": REFERRAL_ID,
            "campaign": "gw-2026",
            "version": 2,
            "greeting": "孤独・孤立相談ダイヤルです。",
            "fallback_number": "0120000000",
            "active": False,
            "options": [
                {"digit": "1", "topic": "LONELY", "label": "孤独", "desk": desk},
                {"digit": "2", "topic": "POVERTY", "label": "生活"},
            ],
        }
    )
    names = {ORGANISATION: "よりそい相談室"}
    listed = _render(
        "ops/voice_menu.html",
        menus=[menu],
        names=names,
        suggestions=[],
        topics=["LONELY"],
        rows=range(1),
        done="",
        problems=[],
        v={},
    )
    confirm = _render("ops/voice_menu_confirm.html", chosen=menu, live=None, names=names)
    for html in (listed, confirm):
        assert "よりそい相談室 <span" in html and CATALOGUE["ja"]["ops.menu.to_fallback"] in html
    assert "<caption" not in listed and '<caption class="visually-hidden">' in confirm
    assert f'action="/ops/voice-menu/{REFERRAL_ID}/activate" class="actions"' in confirm
    assert 'class="button-danger"' in confirm and 'href="/ops/voice-menu">' in confirm


def test_the_dashboard_lists_each_referral_needing_attention_with_why_and_a_link() -> None:
    exhausted = referral.REFERRAL.parse(REFERRAL | {"state": "exhausted"})
    figures = {
        "by_state": {"exhausted": 1},
        "needing_attention": 1,
        "attention": {"items": [Flagged(exhausted, "exhausted")], "overdue": 0},
        "broker_error": True,
    }
    html = _render("partials/dashboard.html", f=figures, chart=None, states=["exhausted"])
    assert f'href="/ops/referrals/{REFERRAL_ID}#rescue"' in html
    assert f'<span class="state state-exhausted">{CATALOGUE["ja"]["state.exhausted"]}</span>' in html


def test_the_register_lists_typed_organisations_and_deactivating_one_asks_first() -> None:
    service: dict[str, list[Any]] = {"schedules": []}
    found = directory.ORGANISATION_SEARCH.parse(
        {
            "contents": [
                {
                    "id": ORGANISATION,
                    "name": "よりそい相談室",
                    "org_type": "NPO",
                    "coverage": ["131041"],
                    "channels": ["portal"],
                    "phone": None,
                    "public_body": False,
                    "services": [service],
                    "active": True,
                    "last_verified_at": "2026-05-03T05:27:00Z",
                    "verification_stale": True,
                }
            ],
            "total_items": 1,
            "total_pages": 1,
        }
    )
    listed = _render(
        "ops/directory.html",
        organisations=found.contents,
        total=found.total_items,
        page=1,
        pages=found.total_pages,
        previous_url=None,
        next_url=None,
        filters={},
        org_types=["NPO"],
        capabilities=[],
        topics=[],
        problems=[],
        done="",
    )
    assert f'href="/ops/directory/{ORGANISATION}/deactivate"' in listed and "2026-05-03" in listed
    assert CATALOGUE["ja"]["ops.dir.stale"] in listed
    confirm = _render("ops/directory_confirm.html", action="deactivate", organisation=found.contents[0])
    assert f'action="/ops/directory/{ORGANISATION}/deactivate" class="actions"' in confirm
    assert f'href="/ops/directory?q={ORGANISATION}"' in confirm and 'class="button-danger"' in confirm
