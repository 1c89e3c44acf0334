"""The HTTP request models reject bad coverage and URLs with messages an operator can act on."""

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.vocabulary import Topic
from directory.matching.routes import MatchIn
from directory.register.domain import OrgType, validate_coverage_entry
from directory.register.models import OrganisationIn


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "新宿区社会福祉協議会",
        "org_type": "SHAKYO",
        "coverage": ["131041"],
        "topics": ["LONELY"],
        "webhook_url": "https://partner.example/hooks/1",
    } | overrides


def reasons(error: ValidationError) -> dict[str, str]:
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in error.errors()}


def test_a_wrong_check_digit_is_explained_with_the_digit_it_should_be() -> None:
    with pytest.raises(ValidationError) as caught:
        OrganisationIn.model_validate(body(coverage=["131041", "131017"]))

    assert "131017: check digit should be 6" in reasons(caught.value)["coverage.1"]


@pytest.mark.parametrize("entry", ["131041", "13", "01", "47", "JP"])
def test_municipality_prefecture_and_national_entries_are_accepted(entry: str) -> None:
    assert validate_coverage_entry(entry) == entry


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("00", "between 01 and 47"),
        ("48", "between 01 and 47"),
        ("481007", "prefecture part 48"),
        ("jp", "6-digit municipality code"),
        ("1310", "6-digit municipality code"),
        ("", "6-digit municipality code"),
        ("１３", "6-digit municipality code"),  # full-width digits
    ],
)
def test_malformed_coverage_entries_are_rejected_with_a_reason(entry: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        validate_coverage_entry(entry)


def test_text_that_is_not_a_code_is_not_echoed_back() -> None:
    with pytest.raises(ValueError) as caught:
        validate_coverage_entry("山田太郎")

    assert "山田太郎" not in str(caught.value)


def test_coverage_must_have_between_one_and_five_hundred_entries() -> None:
    with pytest.raises(ValidationError):
        OrganisationIn.model_validate(body(coverage=[]))
    with pytest.raises(ValidationError):
        OrganisationIn.model_validate(body(coverage=["JP"] * 501))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 201),
        ("org_type", "HOSPITAL"),
        ("topics", ["LONELY", "GAMBLING"]),
        ("webhook_url", "ftp://partner.example/hook"),
        ("webhook_url", "not a url"),
        ("email", "no-at-sign"),
        ("unexpected", 1),
    ],
)
def test_invalid_fields_are_rejected(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        OrganisationIn.model_validate(body(**{field: value}))

    assert any(location.split(".")[0] == field for location in reasons(caught.value))


def test_topics_are_required_and_an_empty_list_means_every_topic() -> None:
    without = body()
    del without["topics"]
    with pytest.raises(ValidationError):
        OrganisationIn.model_validate(without)

    _, main_service = OrganisationIn.model_validate(body(topics=[])).to_domain(uuid.uuid4())

    assert main_service.topics == ()
    assert all(main_service.handles(topic) for topic in Topic)


def test_the_domain_organisation_drops_duplicates_and_keeps_the_order() -> None:
    organisation_id = uuid.uuid4()
    organisation, main_service = OrganisationIn.model_validate(
        body(
            name="  ひだまり  ",
            coverage=["13", "131041", "13"],
            topics=["POVERTY", "LONELY", "POVERTY"],
            email="soudan@hidamari.example",
        )
    ).to_domain(organisation_id)

    assert organisation.id == organisation_id
    assert organisation.name == "ひだまり"
    assert organisation.org_type is OrgType.SHAKYO
    assert organisation.webhook_url == "https://partner.example/hooks/1"
    assert organisation.active
    # The rest of the body is the organisation's main service, which shares its id.
    assert (main_service.id, main_service.organisation_id) == (organisation_id, organisation_id)
    assert main_service.coverage == ("13", "131041")
    assert main_service.topics == (Topic.POVERTY, Topic.LONELY)


def test_a_corporate_number_with_a_wrong_check_digit_is_explained() -> None:
    with pytest.raises(ValidationError) as caught:
        OrganisationIn.model_validate(body(corporate_number="1000012050002"))

    assert "check digit (first digit) should be 7" in reasons(caught.value)["corporate_number"]
    assert OrganisationIn.model_validate(body(corporate_number="7000012050002")).corporate_number


def test_schedules_are_weekly_hours_in_japan_time() -> None:
    with pytest.raises(ValidationError) as bad_day:
        OrganisationIn.model_validate(
            body(schedules=[{"byday": "MO,XX", "opens_at": "09:00", "closes_at": "17:00"}])
        )
    with pytest.raises(ValidationError) as bad_time:
        OrganisationIn.model_validate(
            body(schedules=[{"byday": "MO", "opens_at": "25:00", "closes_at": "17:00"}])
        )
    with pytest.raises(ValidationError) as utc:
        OrganisationIn.model_validate(
            body(schedules=[{"byday": "MO", "opens_at": "09:00", "closes_at": "17:00", "timezone": 0}])
        )

    assert "byday" in str(bad_day.value)
    assert "HH:MM" in str(bad_time.value)
    assert "Japan time" in str(utc.value)


def test_a_dry_run_needs_a_valid_municipality_code() -> None:
    with pytest.raises(ValidationError) as caught:
        MatchIn.model_validate({"topic": "LONELY", "municipality_code": "131017", "severity": "S3"})

    assert "check digit should be 6" in reasons(caught.value)["municipality_code"]
