"""The ranking a counsellor would agree with: what the organisation can do before how close it is,
hard eligibility, hours that are known before hours that are not, and reachable channels only."""

import uuid
from datetime import datetime
from typing import Any

import pytest

from contracts.hours import JST, HoursBasis, weekly
from contracts.vocabulary import AgeBand, Gender, IssueTag, Severity, Topic
from directory.geography.domain import Area, Tier
from directory.matching.answer import candidate_event
from directory.matching.domain import Exclusion, Listing, ReferralNeeds
from directory.matching.ranking import match
from directory.register.domain import Capability, Channel, Eligibility, OrgType

from ..builders import needs_for, organisation_with_service

CHUO_WARD, HAMAMATSU = "221384", "221309"  # 浜松市中央区 and its city
SHINJUKU = "131041"
THURSDAY_10 = datetime(2026, 5, 7, 10, 0, tzinfo=JST)
MIDORI_NO_HI_10 = datetime(2026, 5, 4, 10, 0, tzinfo=JST)  # みどりの日
NEW_YEARS_EVE_22 = datetime(2025, 12, 31, 22, 0, tzinfo=JST)
EVERY_DAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
ROUND_THE_CLOCK = (weekly(EVERY_DAY, "00:00", "24:00"),)
CAN = Capability


def org(
    name: str,
    coverage: tuple[str, ...],
    capabilities: set[Capability],
    *,
    org_type: OrgType = OrgType.NPO,
    topics: tuple[Topic, ...] = (),
    channels: tuple[Channel, ...] = (),
    webhook: bool = True,
    **service: Any,
) -> Listing:
    org_id = uuid.uuid5(uuid.NAMESPACE_URL, name)
    webhook_url = f"https://partner.example/{org_id}" if webhook else None
    organisation, main = organisation_with_service(
        name,
        coverage,
        org_id=org_id,
        org={"org_type": org_type, "webhook_url": webhook_url, "channels": channels},
        topics=topics,
        capabilities=frozenset(capabilities),
        **service,
    )
    return Listing(organisation, main)


def first(listings: list[Listing], case: ReferralNeeds, at: datetime = THURSDAY_10) -> str:
    result = match(case, listings, area=Area.of(case.municipality_code, _city(case)), at=at)
    assert result.chosen is not None, result.unmatched_reasons()
    return result.chosen.organisation.name


def _city(case: ReferralNeeds) -> str | None:
    return HAMAMATSU if case.municipality_code == CHUO_WARD else None


def test_a_shelter_one_tier_up_beats_a_ward_council_that_cannot_shelter() -> None:
    case = needs_for(Topic.WOMEN, CHUO_WARD, need_tags=(IssueTag.DV,), gender=Gender.FEMALE)
    shakyo = org("中央区社協", (CHUO_WARD,), {CAN.INTERVIEW, CAN.ACCOMPANY}, schedules=ROUND_THE_CLOCK)
    shelter = org(
        "浜松市DVシェルター",
        (HAMAMATSU,),
        {CAN.INTERVIEW, CAN.SHELTER, CAN.ACCOMPANY},
        schedules=ROUND_THE_CLOCK,
        eligibility=Eligibility(genders=frozenset({Gender.FEMALE})),
    )

    result = match(case, [shakyo, shelter], area=Area.of(CHUO_WARD, HAMAMATSU), at=THURSDAY_10)

    assert [(c.organisation.name, c.tier, c.capable) for c in result.candidates] == [
        ("浜松市DVシェルター", Tier.CITY, True),
        ("中央区社協", Tier.MUNICIPALITY, False),
    ]
    assert "lacks_capability:SHELTER" in result.candidates[1].reasons


def test_a_family_with_a_withdrawn_son_goes_to_the_hikikomori_centre_not_the_mental_health_centre() -> None:
    case = needs_for(Topic.LONELY, SHINJUKU, need_tags=(IssueTag.HIK, IssueTag.FAM))
    mental_health = org(
        "精神保健福祉センター", ("13",), {CAN.INTERVIEW, CAN.MEDICAL_LINK}, org_type=OrgType.MHWC
    )
    hikikomori = org(
        "ひきこもり地域支援センター", ("13",), {CAN.INTERVIEW, CAN.OUTREACH}, org_type=OrgType.HIKIKOMORI
    )

    assert first([mental_health, hikikomori], case) == "ひきこもり地域支援センター"


def test_a_sixteen_year_old_is_never_offered_to_an_adult_service_and_finds_the_youth_npo() -> None:
    case = needs_for(Topic.UNDER18, SHINJUKU, need_tags=(IssueTag.SUI,), age_band=AgeBand.TEEN)
    adults = org(
        "成人こころの相談センター",
        (SHINJUKU,),
        {CAN.INTERVIEW, CAN.MEDICAL_LINK},
        schedules=ROUND_THE_CLOCK,
        eligibility=Eligibility(minimum_age=18),
    )
    youth = org(
        "ユースNPO",
        ("13",),
        {CAN.INTERVIEW, CAN.MEDICAL_LINK, CAN.ACCOMPANY},
        schedules=ROUND_THE_CLOCK,
        eligibility=Eligibility(minimum_age=10, maximum_age=24),
    )

    result = match(case, [adults, youth], area=Area.of(SHINJUKU), at=THURSDAY_10)

    assert [c.organisation.name for c in result.candidates] == ["ユースNPO"]
    assert [(e.reason, e.detail) for e in result.excluded] == [(Exclusion.NOT_ELIGIBLE, "age")]
    assert "eligibility_fits" in result.candidates[0].reasons


@pytest.mark.parametrize(
    ("at", "open_now"),
    [(THURSDAY_10, True), (MIDORI_NO_HI_10, False), (NEW_YEARS_EVE_22, False)],
)
def test_a_public_office_without_published_hours_keeps_public_office_hours(
    at: datetime, open_now: bool
) -> None:
    office = org("福祉事務所", (SHINJUKU,), {CAN.INTERVIEW, CAN.CASH}, org_type=OrgType.WELFARE_OFFICE)

    s2 = match(needs_for(Topic.POVERTY, SHINJUKU, Severity.S2), [office], area=Area.of(SHINJUKU), at=at)
    s3 = match(needs_for(Topic.POVERTY, SHINJUKU), [office], area=Area.of(SHINJUKU), at=at)

    (candidate,) = s2.candidates
    assert candidate.open_state.open_now is open_now
    assert candidate.open_state.basis is HoursBasis.PUBLIC_OFFICE_DEFAULT
    assert "hours_default:public_office" in candidate.reasons
    # A serious case cannot wait for the office to reopen after the holiday.
    assert bool(s3.candidates) is open_now


def test_at_s3_an_organisation_known_to_be_open_ranks_above_one_whose_hours_are_unknown() -> None:
    case = needs_for(Topic.LONELY, SHINJUKU, need_tags=(IssueTag.ISO,))
    unknown = org("区内NPO(時間不明)", (SHINJUKU,), {CAN.INTERVIEW})
    open_line = org("都の24時間ライン", ("13",), {CAN.INTERVIEW}, schedules=ROUND_THE_CLOCK)

    result = match(case, [unknown, open_line], area=Area.of(SHINJUKU), at=MIDORI_NO_HI_10)

    assert [c.organisation.name for c in result.candidates] == ["都の24時間ライン", "区内NPO(時間不明)"]
    assert "open_24h" in result.candidates[0].reasons
    assert "hours_unknown" in result.candidates[1].reasons
    # At S2 nothing waits on "now": the closer one comes first.
    s2 = needs_for(Topic.LONELY, SHINJUKU, Severity.S2, need_tags=(IssueTag.ISO,))
    assert first([unknown, open_line], s2, MIDORI_NO_HI_10) == "区内NPO(時間不明)"


def test_a_generalist_is_the_fallback_when_no_capable_organisation_can_be_reached_in_time() -> None:
    case = needs_for(Topic.POVERTY, SHINJUKU, need_tags=(IssueTag.HOU,))
    housing_office = org(
        "住まい相談窓口(福祉事務所)",
        (SHINJUKU,),
        {CAN.INTERVIEW, CAN.HOUSING},
        org_type=OrgType.WELFARE_OFFICE,
        schedules=(weekly(["MO", "TU", "WE", "TH", "FR"], "09:00", "17:00"),),
    )
    generalist = org("総合相談ライン", ("13",), {CAN.INTERVIEW}, schedules=ROUND_THE_CLOCK)

    assert first([housing_office, generalist], case, THURSDAY_10) == "住まい相談窓口(福祉事務所)"
    assert first([housing_office, generalist], case, MIDORI_NO_HI_10) == "総合相談ライン"


def test_a_capable_national_line_never_outranks_a_local_organisation() -> None:
    case = needs_for(Topic.LONELY, SHINJUKU, need_tags=(IssueTag.HOU,))
    national = org("全国ライン", ("JP",), {CAN.INTERVIEW, CAN.HOUSING}, schedules=ROUND_THE_CLOCK)
    local = org("区社協", (SHINJUKU,), {CAN.INTERVIEW}, schedules=ROUND_THE_CLOCK)

    assert first([national, local], case) == "区社協"


def test_an_organisation_whose_channel_has_no_address_is_never_offered() -> None:
    case = needs_for(Topic.LONELY, SHINJUKU)
    silent = org("URLなし", (SHINJUKU,), {CAN.INTERVIEW}, channels=(Channel.WEBHOOK,), webhook=False)
    portal = org("ポータルのみ", ("13",), {CAN.INTERVIEW}, channels=(Channel.PORTAL,), webhook=False)

    result = match(case, [silent, portal], area=Area.of(SHINJUKU), at=THURSDAY_10)

    assert [c.organisation.name for c in result.candidates] == ["ポータルのみ"]
    assert [(e.reason, e.detail) for e in result.excluded] == [(Exclusion.UNREACHABLE, "webhook")]


def test_the_candidate_event_carries_the_hours_matching_went_by() -> None:
    office = org("福祉事務所", (SHINJUKU,), {CAN.INTERVIEW}, org_type=OrgType.WELFARE_OFFICE)
    (candidate,) = match(
        needs_for(Topic.POVERTY, SHINJUKU, Severity.S2), [office], area=Area.of(SHINJUKU), at=THURSDAY_10
    ).candidates

    event = candidate_event(candidate)

    assert event.hours is not None and event.hours.basis is HoursBasis.PUBLIC_OFFICE_DEFAULT
    assert event.hours.hours() == candidate.hours
    assert event.open_now is True
