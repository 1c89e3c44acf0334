"""The matching rule: tiers, exclusions with reasons, ranking within a tier, events and alerts."""

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.events import OperatorAlertRaised, ReferralMatched, ReferralRequested, ReferralUnmatched
from contracts.hours import JST, weekly
from contracts.vocabulary import AgeBand, AlertKind, Gender, IssueTag, LawfulBasis, Severity, Topic
from directory.geography.domain import Area, Tier
from directory.matching.answer import outcome_events
from directory.matching.domain import (
    MAX_CANDIDATES,
    Exclusion,
    Listing,
    MatchPolicy,
    Performance,
    ReferralNeeds,
    required_capabilities,
)
from directory.matching.handlers import referral_of
from directory.matching.ranking import match
from directory.register.domain import Capability, Capacity, Eligibility, OrgType, Service, ServiceStatus

from ..builders import needs_for, organisation_with_service

SHINJUKU = "131041"  # 新宿区
CHIYODA = "131016"  # 千代田区
OSAKA = "271004"  # 大阪市
KITA_OSAKA = "271276"  # 大阪市北区, a ward of 大阪市
NEEDS = needs_for(Topic.LONELY, SHINJUKU, Severity.S3)
AREA = Area.of(SHINJUKU)
# A Wednesday at 11:00 in Tokyo: offices are open.
WEDNESDAY_11 = datetime(2026, 3, 4, 11, 0, tzinfo=JST)
WEEKDAYS_9_17 = (weekly(["MO", "TU", "WE", "TH", "FR"], "09:00", "17:00"),)


def listing(
    name: str,
    coverage: tuple[str, ...],
    topics: tuple[Topic, ...] = (Topic.LONELY,),
    *,
    n: int | None = None,
    org_type: OrgType = OrgType.NPO,
    active: bool = True,
    performance: Performance | None = None,
    **service: Any,
) -> Listing:
    org_id = uuid.UUID(int=n) if n is not None else uuid.uuid4()
    org = {"org_type": org_type, "webhook_url": f"https://partner.example/{name}", "active": active}
    return Listing(
        *organisation_with_service(name, coverage, org_id=org_id, org=org, topics=topics, **service),
        performance,
    )


def run(listings: list[Listing], needs: ReferralNeeds = NEEDS, at: datetime = WEDNESDAY_11, **kw: Any) -> Any:
    area = kw.pop("area", Area.of(needs.municipality_code))
    return match(needs, listings, area=area, at=at, **kw)


def ranked(listings: list[Listing], needs: ReferralNeeds = NEEDS, **kw: Any) -> list[str]:
    return [c.organisation.name for c in run(listings, needs, **kw).candidates]


def test_municipality_tier_ranks_before_prefecture_before_national() -> None:
    national, prefecture, local = listing("A", ("JP",)), listing("B", ("13",)), listing("C", (SHINJUKU,))

    result = run([national, prefecture, local])

    assert [(c.organisation.name, c.tier, c.rank) for c in result.candidates] == [
        ("C", Tier.MUNICIPALITY, 1),
        ("B", Tier.PREFECTURE, 2),
        ("A", Tier.NATIONAL, 3),
    ]


def test_a_ward_reaches_its_designated_city_between_the_ward_and_the_prefecture() -> None:
    needs = needs_for(Topic.LONELY, KITA_OSAKA, Severity.S3)
    area = Area.of(KITA_OSAKA, OSAKA)
    organisations = [
        listing("national", ("JP",)),
        listing("prefecture", ("27",)),
        listing("city", (OSAKA,)),
        listing("ward", (KITA_OSAKA,)),
        listing("other ward", ("271020",)),
    ]

    result = run(organisations, needs, area=area)

    assert [(c.organisation.name, c.tier) for c in result.candidates] == [
        ("ward", Tier.MUNICIPALITY),
        ("city", Tier.CITY),
        ("prefecture", Tier.PREFECTURE),
        ("national", Tier.NATIONAL),
    ]
    assert result.candidates[1].reasons[0] == f"covers_city:{OSAKA}"
    assert [(e.reason, e.detail) for e in result.excluded] == [(Exclusion.OUT_OF_AREA, None)]


def test_every_candidate_explains_area_topic_capabilities_hours_capacity_language_and_record() -> None:
    (candidate,) = run(
        [listing("Local", (SHINJUKU,), capabilities=frozenset({Capability.INTERVIEW}))]
    ).candidates

    assert candidate.reasons == (
        f"covers_municipality:{SHINJUKU}",
        "handles_topic:LONELY",
        "has_capability:INTERVIEW",
        "hours_unknown",
        "capacity_unknown:not_reported",
        "speaks:ja",
        "ack_rate:unknown",
    )


def test_the_required_capabilities_come_from_tags_topic_and_severity() -> None:
    assert required_capabilities(Topic.LONELY, (IssueTag.HOU, IssueTag.FOOD), Severity.S2) == {
        Capability.HOUSING,
        Capability.FOOD,
    }
    assert required_capabilities(Topic.FOREIGN_LANG, (), Severity.S3) == {
        Capability.MULTILINGUAL,
        Capability.INTERVIEW,
    }
    assert required_capabilities(Topic.LONELY, (IssueTag.DV,), Severity.S1) == {
        Capability.SHELTER,
        Capability.ACCOMPANY,
    }


def test_within_a_tier_the_better_capability_fit_ranks_first() -> None:
    needs = needs_for(Topic.LONELY, SHINJUKU, Severity.S3, need_tags=(IssueTag.HOU,))
    partial = listing("A partial", (SHINJUKU,), capabilities=frozenset({Capability.INTERVIEW}))
    full = listing("Z full", (SHINJUKU,), capabilities=frozenset({Capability.INTERVIEW, Capability.HOUSING}))

    result = run([partial, full], needs)

    assert [c.organisation.name for c in result.candidates] == ["Z full", "A partial"]
    assert "lacks_capability:HOUSING" in result.candidates[1].reasons


def test_a_serious_case_excludes_an_office_that_is_closed_now_and_says_until_when() -> None:
    office = listing("Office", (SHINJUKU,), schedules=WEEKDAYS_9_17)
    night = datetime(2026, 3, 4, 22, 0, tzinfo=JST)

    result = run([office], at=night)

    assert result.candidates == ()
    (excluded,) = result.excluded
    assert (excluded.reason, excluded.detail) == (Exclusion.CLOSED, "until 2026-03-05T09:00+09:00")
    assert excluded.code == "closed:until 2026-03-05T09:00+09:00"


def test_a_non_urgent_case_queues_to_the_next_opening_behind_those_open_now() -> None:
    needs = needs_for(Topic.LONELY, SHINJUKU, Severity.S2)
    office = listing("A office", (SHINJUKU,), schedules=WEEKDAYS_9_17)
    night_line = listing("Z night line", (SHINJUKU,), schedules=(weekly(["WE"], "17:00", "09:00"),))
    night = datetime(2026, 3, 4, 22, 0, tzinfo=JST)

    result = run([office, night_line], needs, at=night)

    assert [c.organisation.name for c in result.candidates] == ["Z night line", "A office"]
    assert "queued_until:2026-03-05T09:00+09:00" in result.candidates[1].reasons
    assert result.candidates[1].open_state.next_opening == datetime(2026, 3, 5, 9, 0, tzinfo=JST)


def test_public_bodies_are_closed_on_holidays_and_at_year_end_but_24_hour_services_are_not() -> None:
    welfare = listing("福祉事務所", (SHINJUKU,), org_type=OrgType.WELFARE_OFFICE, schedules=WEEKDAYS_9_17)
    npo = listing("NPO", (SHINJUKU,), schedules=WEEKDAYS_9_17)
    child_line = listing(
        "児童相談所", (SHINJUKU,), org_type=OrgType.CHILD_GUIDANCE,
        schedules=(weekly(["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "00:00", "24:00"),),
    )  # fmt: skip
    year_end = datetime(2025, 12, 30, 11, 0, tzinfo=JST)  # a Tuesday
    constitution_day = datetime(2026, 5, 4, 11, 0, tzinfo=JST)  # みどりの日, a Monday

    for at in (year_end, constitution_day):
        result = run([welfare, npo, child_line], at=at)
        names = [c.organisation.name for c in result.candidates]
        assert "福祉事務所" not in names
        assert "児童相談所" in names
    assert ranked([welfare, npo, child_line], at=constitution_day) == ["NPO", "児童相談所"]
    # The NPO keeps its weekday hours on the year-end Tuesday; the 福祉事務所 reopens on 1/5.
    closed = {e.organisation_id: e for e in run([welfare, npo, child_line], at=year_end).excluded}
    assert closed[welfare.organisation.id].detail == "until 2026-01-05T09:00+09:00"
    assert "open_24h" in run([child_line], at=year_end).candidates[0].reasons


def test_fresh_capacity_ranks_first_zero_capacity_is_excluded_and_stale_capacity_is_unknown() -> None:
    now = WEDNESDAY_11

    def capacity(available: int, age: timedelta) -> Capacity:
        return Capacity(available, 5, now - age, now - age)

    full = listing("full", (SHINJUKU,), capacity=capacity(0, timedelta(hours=1)))
    stale_full = listing("A stale", (SHINJUKU,), capacity=capacity(0, timedelta(days=3)))
    free = listing("Z free", (SHINJUKU,), capacity=capacity(2, timedelta(hours=1)))

    result = run([full, stale_full, free], policy=MatchPolicy(capacity_stale_after=timedelta(hours=24)))

    assert [c.organisation.name for c in result.candidates] == ["Z free", "A stale"]
    assert "capacity_available:2/5" in result.candidates[0].reasons
    assert "capacity_unknown:stale" in result.candidates[1].reasons
    assert [(e.reason, e.detail) for e in result.excluded] == [(Exclusion.NO_CAPACITY, "0/5")]
    # A shorter staleness makes the same full report unknown too.
    assert len(run([full], policy=MatchPolicy(capacity_stale_after=timedelta(minutes=30))).candidates) == 1


def test_a_person_who_cannot_use_japanese_is_never_offered_to_a_japanese_only_organisation() -> None:
    needs = needs_for(Topic.FOREIGN_LANG, SHINJUKU, Severity.S2, language="vi")
    ja = listing("A ja", (SHINJUKU,), topics=())
    vi = listing("Z vi", ("13",), topics=(), languages=("ja", "vi"))
    interpreters = listing(
        "B interpreters", (SHINJUKU,), topics=(), capabilities=frozenset({Capability.MULTILINGUAL})
    )

    result = run([ja, vi, interpreters], needs)

    # Speaking the language beats interpreting it, even one tier up; Japanese only is excluded.
    assert [c.organisation.name for c in result.candidates] == ["Z vi", "B interpreters"]
    assert "speaks:vi" in result.candidates[0].reasons
    assert "interpreting:vi" in result.candidates[1].reasons
    assert [(e.reason, e.detail) for e in result.excluded] == [(Exclusion.NOT_ELIGIBLE, "language")]


@pytest.mark.parametrize(
    ("band", "gender", "eligible"),
    [
        (AgeBand.YOUNG_ADULT, Gender.FEMALE, True),
        (AgeBand.TEEN, Gender.FEMALE, True),  # 12–17 overlaps 15–49: may be eligible
        (AgeBand.SENIOR, Gender.FEMALE, False),
        (AgeBand.YOUNG_ADULT, Gender.MALE, False),
        (AgeBand.UNKNOWN, Gender.UNKNOWN, True),  # cannot tell: not excluded, ranked lower
    ],
)
def test_eligibility_by_age_band_and_gender(band: AgeBand, gender: Gender, eligible: bool) -> None:
    needs = needs_for(Topic.LONELY, SHINJUKU, Severity.S2, age_band=band, gender=gender)
    youth_women = listing("youth", (SHINJUKU,), eligibility=Eligibility(15, 49, frozenset({Gender.FEMALE})))

    result = run([youth_women], needs)

    assert bool(result.candidates) is eligible
    if not eligible:
        assert result.excluded[0].reason is Exclusion.NOT_ELIGIBLE
        assert result.excluded[0].detail in ("age", "gender")


def test_a_service_aimed_at_the_person_ranks_before_a_general_one() -> None:
    needs = needs_for(Topic.LONELY, SHINJUKU, Severity.S2, age_band=AgeBand.YOUNG_ADULT)
    general = listing("A general", (SHINJUKU,))
    youth = listing("Z youth", (SHINJUKU,), eligibility=Eligibility(15, 39))

    assert ranked([general, youth], needs) == ["Z youth", "A general"]


def test_better_recent_acknowledgement_ranks_first_when_all_else_is_equal() -> None:
    slow = listing("A slow", (SHINJUKU,), performance=Performance(10, 2, 0, 8, ack_score=0.2))
    unknown = listing("B new", (SHINJUKU,))
    reliable = listing("C reliable", (SHINJUKU,), performance=Performance(10, 9, 0, 1, ack_score=0.9))

    assert ranked([slow, unknown, reliable]) == ["C reliable", "B new", "A slow"]


def test_exclusions_give_the_first_failing_check_and_an_organisation_its_closest_service() -> None:
    inactive = listing("inactive", (SHINJUKU,), active=False)
    paused = listing("paused", (SHINJUKU,), status=ServiceStatus.TEMPORARILY_CLOSED)
    elsewhere = listing("elsewhere", (OSAKA,), topics=(Topic.WOMEN,))
    wrong_topic = listing("women", (SHINJUKU,), topics=(Topic.WOMEN,))
    # One organisation, two services: one elsewhere, one closed now: "closed" explains it best.
    office = listing("office", (SHINJUKU,), schedules=WEEKDAYS_9_17, n=99)
    far = Listing(office.organisation, Service(uuid.UUID(int=100), office.organisation.id, "far", (OSAKA,)))

    result = run(
        [inactive, paused, elsewhere, wrong_topic, office, far], at=datetime(2026, 3, 4, 22, tzinfo=JST)
    )

    reasons = {e.organisation_id: e.reason for e in result.excluded}
    assert reasons == {
        inactive.organisation.id: Exclusion.INACTIVE,
        paused.organisation.id: Exclusion.INACTIVE,
        elsewhere.organisation.id: Exclusion.OUT_OF_AREA,
        wrong_topic.organisation.id: Exclusion.TOPIC_NOT_HANDLED,
        office.organisation.id: Exclusion.CLOSED,
    }


def test_an_organisation_is_ranked_once_through_its_best_service() -> None:
    org = listing("org", ("13",), n=1)
    local = Listing(org.organisation, Service(uuid.UUID(int=2), org.organisation.id, "local", (SHINJUKU,)))

    (candidate,) = run([org, local]).candidates

    assert (candidate.service.name, candidate.tier) == ("local", Tier.MUNICIPALITY)


def test_ties_are_broken_by_name_then_id_and_input_order_never_matters() -> None:
    organisations = [
        listing("Local", (SHINJUKU,), n=2),
        listing("Local", (SHINJUKU,), n=1),
        listing("Catch-all", (SHINJUKU,), topics=(), n=3),
        listing("Prefecture", ("13",), n=4),
        listing("National", ("JP",), n=5),
        listing("Elsewhere", (OSAKA,), n=6),
        listing("Closed", (SHINJUKU,), active=False, n=7),
        listing("Other topic", (SHINJUKU,), topics=(Topic.WOMEN,), n=8),
    ]
    expected = run(organisations)

    assert [c.organisation.id.int for c in expected.candidates] == [1, 2, 3, 4, 5]
    for permutation in itertools.islice(itertools.permutations(organisations), 0, None, 997):
        assert run(list(permutation)) == expected


def test_at_most_ten_candidates_are_carried_and_the_eligible_count_tells_how_many_fit() -> None:
    organisations = [listing(f"Org {i:02d}", ("JP",)) for i in range(MAX_CANDIDATES + 5)]
    random.Random(7).shuffle(organisations)

    result = run(organisations)

    assert len(result.candidates) == MAX_CANDIDATES
    assert result.eligible_count == MAX_CANDIDATES + 5
    assert [c.organisation.name for c in result.candidates] == [f"Org {i:02d}" for i in range(10)]


def test_when_all_are_excluded_the_reasons_count_each_kind_of_exclusion() -> None:
    result = run(
        [
            listing("Women", (SHINJUKU,), topics=(Topic.WOMEN,)),
            listing("Poverty", ("13",), topics=(Topic.POVERTY,)),
            listing("Closed", (SHINJUKU,), active=False),
        ]
    )

    assert result.unmatched_reasons() == (
        "no_eligible_organisation",
        f"searched_municipality:{SHINJUKU}",
        "searched_topic:LONELY",
        "inactive:1",
        "topic_not_handled:2",
    )
    assert run([]).unmatched_reasons()[0] == "no_active_organisation_covers_area"


def _request(**fields: Any) -> ReferralRequested:
    return ReferralRequested(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        topic=Topic.LONELY,
        municipality_code=SHINJUKU,
        severity=Severity.S3,
        lawful_basis=LawfulBasis.CONSENT,
        requested_at=datetime.now(UTC),
        **(
            {"need_tags": (), "age_band": AgeBand.UNKNOWN, "gender": Gender.UNKNOWN, "language": "ja"}
            | fields
        ),
    )


def test_a_local_match_is_one_matched_event_carrying_every_candidate_with_its_channels() -> None:
    request = _request()
    local = listing("Local", (SHINJUKU,), schedules=WEEKDAYS_9_17)
    national = listing("National", ("JP",), topics=())

    (event,) = outcome_events(referral_of(request), run([national, local]), at=WEDNESDAY_11)

    assert isinstance(event, ReferralMatched)
    assert not event.fallback
    assert event.organisation.organisation_id == local.organisation.id
    assert [(c.organisation_id, c.rank, c.tier) for c in event.candidates] == [
        (local.organisation.id, 1, "municipality"),
        (national.organisation.id, 2, "national"),
    ]
    first = event.candidates[0]
    assert (first.name, first.webhook_url, first.channels, first.open_now) == (
        "Local",
        "https://partner.example/Local",
        ("webhook",),
        True,
    )


def test_only_national_candidates_means_fallback_and_an_operator_alert() -> None:
    request = _request()

    matched, alert = outcome_events(
        referral_of(request), run([listing("National", ("JP",)), listing("Osaka", (OSAKA,))]), at=WEDNESDAY_11
    )

    assert isinstance(matched, ReferralMatched) and matched.fallback
    assert isinstance(alert, OperatorAlertRaised)
    assert (alert.kind, alert.referral_id, alert.severity, alert.raised_by) == (
        AlertKind.NO_LOCAL_MATCH,
        request.referral_id,
        Severity.S3,
        "directory",
    )
    assert alert.detail == (f"searched_municipality:{SHINJUKU}", "out_of_area:1")
    assert alert.case_id == request.case_id


def test_no_match_at_all_is_an_unmatched_event_and_a_no_match_alert() -> None:
    request = _request()

    unmatched, alert = outcome_events(referral_of(request), run([]), at=WEDNESDAY_11)

    assert isinstance(unmatched, ReferralUnmatched)
    assert unmatched.reasons[0] == "no_active_organisation_covers_area"
    assert isinstance(alert, OperatorAlertRaised) and alert.kind is AlertKind.NO_MATCH
    # The same referral always raises the same alert id: a redelivery cannot raise a second one.
    assert outcome_events(referral_of(request), run([]), at=WEDNESDAY_11)[1].alert_id == alert.alert_id  # type: ignore[attr-defined]
