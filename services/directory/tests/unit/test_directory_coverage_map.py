"""The coverage map's rules: need templates, the class of a place, the shade of a prefecture."""

import uuid
from datetime import datetime
from typing import Any

import pytest

from contracts.hours import JST, weekly
from contracts.municipality import Kind, Municipality
from contracts.vocabulary import AgeBand, Gender, IssueTag, Severity, Topic
from directory.coverage.domain import (
    NEED_TEMPLATES,
    Coverage,
    NeedKind,
    Place,
    PlaceCoverage,
    Shade,
    classify,
    count,
    language_for,
    places_of,
    shade_of,
    summarise,
    survey,
)
from directory.geography.domain import Area
from directory.matching.domain import Listing, MatchPolicy, ReferralNeeds, required_capabilities
from directory.matching.ranking import match
from directory.register.domain import Capability, OrgType

from ..builders import organisation_with_service

SHINJUKU, SETAGAYA, KITA_OSAKA, OSAKA = "131041", "131121", "271276", "271004"
WEDNESDAY_NOON = datetime(2027, 5, 12, 12, 0, tzinfo=JST)
HOLIDAY_2AM = datetime(2027, 5, 3, 2, 0, tzinfo=JST)  # 憲法記念日, a Monday
DV = frozenset({Capability.SHELTER, Capability.ACCOMPANY, Capability.INTERVIEW})


def listing(name: str, coverage: tuple[str, ...], **service: Any) -> Listing:
    org = {"org_type": service.pop("org_type", OrgType.NPO), "webhook_url": f"https://x.example/{name}"}
    org_id = uuid.uuid5(uuid.NAMESPACE_URL, name)
    return Listing(*organisation_with_service(name, coverage, org_id=org_id, org=org, **service))


def dv_match(*listings: Listing, code: str = SHINJUKU, at: datetime = WEDNESDAY_NOON) -> Any:
    needs = NEED_TEMPLATES[NeedKind.DV_SHELTER].needs(code, "ja")
    return match(needs, listings, area=Area.of(code), at=at, policy=MatchPolicy())


def test_every_need_kind_has_a_serious_template_that_needs_something_particular() -> None:
    assert set(NEED_TEMPLATES) == set(NeedKind)
    for kind, template in NEED_TEMPLATES.items():
        assert template.severity.is_serious, kind
        # More than the 面談 every serious case needs: otherwise anybody would count as capable.
        assert required_capabilities(template.topic, template.need_tags, template.severity) > {
            Capability.INTERVIEW
        }, kind


def test_the_dv_template_is_an_adult_woman_and_suicide_risk_is_an_emergency() -> None:
    dv = NEED_TEMPLATES[NeedKind.DV_SHELTER].needs(SHINJUKU, "ja")
    suicide = NEED_TEMPLATES[NeedKind.SUICIDE_RISK].needs(SHINJUKU, "ja")

    assert dv == ReferralNeeds(
        Topic.WOMEN, SHINJUKU, Severity.S3, (IssueTag.DV,), AgeBand.ADULT, Gender.FEMALE, "ja"
    )
    assert dv.capabilities == DV
    assert (suicide.severity, suicide.age_band) == (Severity.S4, AgeBand.UNKNOWN)


def test_only_a_foreign_language_need_takes_a_language_and_it_defaults_to_vietnamese() -> None:
    assert language_for(NeedKind.FOREIGN_LANGUAGE, None) == "vi"
    assert language_for(NeedKind.FOREIGN_LANGUAGE, "pt") == "pt"
    assert language_for(NeedKind.DV_SHELTER, None) == "ja"
    with pytest.raises(ValueError, match="foreign_language only"):
        language_for(NeedKind.DV_SHELTER, "en")
    with pytest.raises(ValueError, match="other than Japanese"):
        language_for(NeedKind.FOREIGN_LANGUAGE, "ja")


def test_a_local_capable_organisation_known_to_be_open_is_capable_open() -> None:
    office = listing("office", (SHINJUKU,), capabilities=DV, schedules=(weekly(["WE"], "09:00", "17:00"),))

    assert classify(dv_match(office)) is Coverage.CAPABLE_OPEN


def test_a_local_capable_one_of_unknown_hours_is_not_counted_as_open() -> None:
    assert classify(dv_match(listing("unknown", ("13",), capabilities=DV))) is Coverage.CAPABLE_UNKNOWN_HOURS


def test_an_open_capable_one_a_tier_up_beats_a_neighbour_of_unknown_hours() -> None:
    unknown = listing("unknown", (SHINJUKU,), capabilities=DV)
    night = listing("night", ("13",), capabilities=DV, schedules=(weekly(["MO"], "00:00", "06:00"),))

    result = dv_match(unknown, night, at=HOLIDAY_2AM)

    assert classify(result) is Coverage.CAPABLE_OPEN
    assert result.chosen is not None and result.chosen.organisation.name == "night"


def test_a_local_one_lacking_a_capability_is_a_generalist_even_with_a_capable_national_line() -> None:
    shakyo = listing("shakyo", (SHINJUKU,), capabilities=frozenset({Capability.INTERVIEW}))
    national = listing("national", ("JP",), capabilities=DV, schedules=(weekly(["WE"], "00:00", "24:00"),))

    assert classify(dv_match(shakyo, national)) is Coverage.GENERALIST


def test_only_national_candidates_is_national_only_and_nobody_is_none() -> None:
    national = listing("national", ("JP",), capabilities=DV)
    elsewhere = listing("osaka", (KITA_OSAKA,), capabilities=DV)

    assert classify(dv_match(national, elsewhere)) is Coverage.NATIONAL_ONLY
    assert classify(dv_match(elsewhere)) is Coverage.NONE


def test_a_capable_office_closed_at_that_hour_leaves_the_place_to_whoever_is_next() -> None:
    office = listing(
        "office", (SHINJUKU,), capabilities=DV, org_type=OrgType.DV_CENTER,
        schedules=(weekly(["MO", "TU", "WE", "TH", "FR"], "00:00", "08:00"),),
    )  # fmt: skip

    assert classify(dv_match(office, at=datetime(2027, 5, 10, 2, 0, tzinfo=JST))) is Coverage.CAPABLE_OPEN
    # A public body's night desk shuts on a national holiday like its office.
    assert classify(dv_match(office, at=HOLIDAY_2AM)) is Coverage.NONE


def test_classifying_a_match_that_does_not_need_anyone_open_now_is_refused() -> None:
    needs = NEED_TEMPLATES[NeedKind.HIKIKOMORI].needs(SHINJUKU, "ja")
    s2 = ReferralNeeds(
        needs.topic, SHINJUKU, Severity.S2, needs.need_tags, needs.age_band, needs.gender, needs.language
    )

    with pytest.raises(ValueError, match="serious"):
        classify(match(s2, [], area=Area.of(SHINJUKU), at=WEDNESDAY_NOON))


def municipality(code: str, name: str, kind: Kind, city_code: str | None = None) -> Municipality:
    return Municipality(code, name, "", kind, code[:2], "", city_code, 35.0, 139.0)


def test_places_are_municipalities_and_wards_but_not_the_designated_cities_themselves() -> None:
    found = places_of(
        [
            municipality(KITA_OSAKA, "大阪市北区", Kind.WARD, OSAKA),
            municipality(OSAKA, "大阪市", Kind.DESIGNATED_CITY),
            municipality(SHINJUKU, "新宿区", Kind.SPECIAL_WARD),
        ],
        {"13": "東京都", "27": "大阪府"},
    )

    assert [(p.code, p.name, p.area.city_code) for p in found] == [
        (SHINJUKU, "東京都新宿区", None),
        (KITA_OSAKA, "大阪府大阪市北区", OSAKA),
    ]


def test_a_survey_matches_each_place_with_the_listings_that_reach_it() -> None:
    places = (
        Place(Area.of(SHINJUKU), "東京都新宿区"),
        Place(Area.of(SETAGAYA), "東京都世田谷区"),
        Place(Area.of(KITA_OSAKA, OSAKA), "大阪府大阪市北区"),
    )
    always = (weekly(["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "00:00", "24:00"),)
    listings = [
        # Listed under its ward and its prefecture both: one listing for Shinjuku, not two.
        listing("shinjuku", (SHINJUKU, "13"), capabilities=DV, schedules=always),
        listing("osaka city", (OSAKA,), capabilities=frozenset({Capability.INTERVIEW}), schedules=always),
        listing("national", ("JP",), capabilities=DV, schedules=always),
    ]

    surveyed = survey(NeedKind.DV_SHELTER, "ja", places, listings, at=HOLIDAY_2AM, policy=MatchPolicy())

    assert [(s.place.code, s.coverage, s.chosen and s.chosen.organisation.name) for s in surveyed] == [
        (SHINJUKU, Coverage.CAPABLE_OPEN, "shinjuku"),
        (SETAGAYA, Coverage.CAPABLE_OPEN, "shinjuku"),  # through its prefecture entry
        (KITA_OSAKA, Coverage.GENERALIST, "osaka city"),  # the city tier reaches its wards
    ]


def counts(**found: int) -> dict[Coverage, int]:
    return {c: found.get(c.value, 0) for c in Coverage}


@pytest.mark.parametrize(
    ("found", "shade"),
    [
        (counts(capable_open=5), Shade.ALL_OPEN),
        (counts(capable_open=3, national_only=3), Shade.MOST_OPEN),
        (counts(capable_open=2, capable_unknown_hours=1, none=2), Shade.SOME_OPEN),
        (counts(capable_unknown_hours=4, generalist=1), Shade.NOT_OPEN),
        (counts(national_only=2, none=7), Shade.NOT_OPEN),
        (counts(none=4), Shade.NONE),
        (counts(), Shade.NONE),
    ],
    ids=[
        "all",
        "half-is-most",
        "fewer-than-half",
        "unknown-hours-are-not-open",
        "national",
        "nobody",
        "empty",
    ],
)
def test_a_prefecture_is_shaded_by_its_share_of_capable_open_places(
    found: dict[Coverage, int], shade: Shade
) -> None:
    assert shade_of(found) is shade


def test_every_prefecture_is_summarised_with_every_class_even_one_with_no_places_surveyed() -> None:
    def placed(code: str, coverage: Coverage) -> PlaceCoverage:
        return PlaceCoverage(Place(Area.of(code), code), coverage, None)

    surveyed = [placed(SHINJUKU, Coverage.CAPABLE_OPEN), placed(SETAGAYA, Coverage.NONE)]

    tokyo, osaka = summarise(surveyed, {"27": "大阪府", "13": "東京都"})

    assert (tokyo.code, tokyo.name, tokyo.places, tokyo.shade) == ("13", "東京都", 2, Shade.MOST_OPEN)
    assert tokyo.counts == counts(capable_open=1, none=1)
    assert (osaka.code, osaka.places, osaka.shade) == ("27", 0, Shade.NONE)
    assert count(surveyed) == counts(capable_open=1, none=1)
