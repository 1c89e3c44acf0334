"""The directory screen's organisation form: the register's record in, the register's body out."""

from typing import Any

from web.api.directory import OrganisationRecord
from web.directory_form import blank_values, body_from_form, values_from_record

SERVICE: dict[str, Any] = {
    "name": "相談窓口",
    "status": "active",
    "description": None,
    "languages": ["ja"],
    "capabilities": [],
    "minimum_age": None,
    "maximum_age": None,
    "genders": [],
    "residency": "any",
    "capacity": None,
    "schedules": [],
}
RECORD = OrganisationRecord.model_validate(
    {
        "id": "5f0c2a3e-0000-4000-8000-000000000001",
        "name": "新宿こころの窓口",
        "org_type": "NPO",
        "active": True,
        "channels": ["portal", "email"],
        "email": "desk@example.org",
        "phone": "03-1234-5678",
        "coverage": ["131041"],
        "public_body": False,
        "last_verified_at": None,
        "verification_stale": None,
        "alternate_name": None,
        "corporate_number": None,
        "description": None,
        "website": None,
        "webhook_url": None,
        "portal_url": None,
        "services": [
            SERVICE
            | {"id": "5f0c2a3e-0000-4000-8000-00000000ffff", "coverage": ["01"], "topics": ["POVERTY"]},
            SERVICE
            | {
                "id": "5f0c2a3e-0000-4000-8000-000000000001",
                "coverage": ["131041", "13"],
                "topics": ["LONELY", "WOMEN"],
                "capabilities": ["INTERVIEW", "SHELTER"],
                "languages": ["ja", "en"],
                "minimum_age": 18,
                "maximum_age": None,
                "genders": ["female"],
                "residency": "resident",
                "schedules": [{"byday": "MO,TU,WE", "opens_at": "09:00", "closes_at": "17:00"}],
            },
        ],
    }
)


def test_the_form_shows_the_organisation_and_its_main_service_not_another_one() -> None:
    values = values_from_record(RECORD)

    assert values["coverage"] == "131041 13"
    assert values["topics"] == ["LONELY", "WOMEN"]
    assert values["minimum_age"] == "18" and values["maximum_age"] == ""
    assert values["hours"][0] == {"days": ["MO", "TU", "WE"], "opens": "09:00", "closes": "17:00"}
    assert values["channels"] == ["portal", "email"]


def test_what_was_shown_is_saved_back_unchanged() -> None:
    values = values_from_record(RECORD)
    posted: dict[str, list[str]] = {k: [v] for k, v in values.items() if isinstance(v, str)}
    for key in ("topics", "capabilities", "genders", "channels"):
        posted[key] = values[key]
    posted["active"] = ["1"]
    posted |= {"byday_0": ["MO", "TU", "WE"], "opens_0": ["09:00"], "closes_0": ["17:00"]}

    _, body, wrong = body_from_form(posted)

    assert wrong == []
    assert body["coverage"] == ["131041", "13"]
    assert body["languages"] == ["ja", "en"]
    assert body["minimum_age"] == 18 and body["maximum_age"] is None
    assert body["schedules"] == [
        {"freq": "WEEKLY", "byday": "MO,TU,WE", "opens_at": "09:00", "closes_at": "17:00"}
    ]
    assert body["active"] is True and body["alternate_name"] is None
    assert body["phone"] == "03-1234-5678"  # a PUT replaces every field: none is dropped


def test_codes_may_be_separated_by_spaces_or_either_width_of_comma() -> None:
    _, body, _ = body_from_form({"name": ["x"], "coverage": ["131041, 13、JP,131041"]})

    assert body["coverage"] == ["131041", "13", "JP"]


def test_a_missing_name_an_empty_area_a_bad_age_and_half_an_hours_row_are_named() -> None:
    values, _, wrong = body_from_form({"coverage": [" "], "minimum_age": ["-3"], "opens_1": ["09:00"]})

    assert sorted(wrong) == ["coverage", "hours:2", "minimum_age", "name"]
    assert values["hours"][1]["opens"] == "09:00"


def test_an_unticked_active_box_deactivates_and_a_new_form_starts_active() -> None:
    assert blank_values()["active"] is True
    _, body, _ = body_from_form({"name": ["x"], "coverage": ["JP"]})
    assert body["active"] is False
