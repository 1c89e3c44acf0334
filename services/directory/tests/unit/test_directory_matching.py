"""The matching rule: tiers, the topic rule, exclusions, deterministic ranking, unmatched reasons."""

import itertools
import random
import uuid
from datetime import UTC, datetime

import pytest

from contracts.events import ReferralMatched, ReferralRequested, ReferralUnmatched
from contracts.vocabulary import LawfulBasis, Severity, Topic
from directory.domain import (
    MAX_CANDIDATES,
    Excluded,
    Organisation,
    OrgType,
    ReferralNeeds,
    Tier,
    match,
    outcome_event,
)

pytestmark = pytest.mark.unit

SHINJUKU = "131041"  # 新宿区
CHIYODA = "131016"  # 千代田区
OSAKA = "271004"  # 大阪市
NEEDS = ReferralNeeds(topic=Topic.LONELY, municipality_code=SHINJUKU, severity=Severity.S3)


def org(
    name: str,
    coverage: tuple[str, ...],
    topics: tuple[Topic, ...] = (Topic.LONELY,),
    *,
    active: bool = True,
    n: int | None = None,
) -> Organisation:
    return Organisation(
        id=uuid.UUID(int=n) if n is not None else uuid.uuid4(),
        name=name,
        org_type=OrgType.NPO,
        coverage=coverage,
        topics=topics,
        webhook_url=f"https://partner.example/{name}",
        active=active,
    )


def ranked_ids(organisations: list[Organisation], needs: ReferralNeeds = NEEDS) -> list[uuid.UUID]:
    return [c.organisation.id for c in match(needs, organisations).candidates]


def test_municipality_tier_ranks_before_prefecture_before_national() -> None:
    national = org("A national", ("JP",))
    prefecture = org("B prefecture", ("13",))
    local = org("C local", (SHINJUKU,))

    result = match(NEEDS, [national, prefecture, local])

    assert [(c.organisation, c.tier, c.rank) for c in result.candidates] == [
        (local, Tier.MUNICIPALITY, 1),
        (prefecture, Tier.PREFECTURE, 2),
        (national, Tier.NATIONAL, 3),
    ]
    assert result.chosen is not None and result.chosen.organisation == local


def test_an_organisation_takes_its_best_tier_when_its_coverage_reaches_the_area_several_ways() -> None:
    everywhere = org("Everywhere", ("JP", "13", SHINJUKU))

    (candidate,) = match(NEEDS, [everywhere]).candidates

    assert candidate.tier is Tier.MUNICIPALITY
    assert candidate.reasons == (f"covers_municipality:{SHINJUKU}", "handles_topic:LONELY")


def test_reasons_name_the_area_and_topic_codes_for_each_tier() -> None:
    result = match(NEEDS, [org("P", ("13",)), org("N", ("JP",), topics=())])

    assert [c.reasons for c in result.candidates] == [
        ("covers_prefecture:13", "handles_topic:LONELY"),
        ("national_coverage", "handles_all_topics"),
    ]


def test_an_organisation_that_does_not_list_the_topic_is_excluded() -> None:
    poverty_only = org("Poverty desk", (SHINJUKU,), topics=(Topic.POVERTY,))

    result = match(NEEDS, [poverty_only])

    assert result.candidates == ()
    assert result.excluded == (Excluded(poverty_only.id, "topic_not_handled"),)


def test_an_organisation_with_no_topics_takes_every_topic_but_ranks_after_specialists() -> None:
    catch_all = org("A catch-all", (SHINJUKU,), topics=())
    specialist = org("Z specialist", (SHINJUKU,), topics=(Topic.POVERTY, Topic.LONELY))

    assert ranked_ids([catch_all, specialist]) == [specialist.id, catch_all.id]


def test_a_closer_catch_all_still_ranks_before_a_farther_specialist() -> None:
    local_catch_all = org("Local catch-all", (SHINJUKU,), topics=())
    prefecture_specialist = org("Prefecture specialist", ("13",))

    assert ranked_ids([prefecture_specialist, local_catch_all]) == [
        local_catch_all.id,
        prefecture_specialist.id,
    ]


def test_inactive_organisations_are_excluded_even_when_they_would_fit() -> None:
    closed = org("Closed", (SHINJUKU,), active=False)
    open_ = org("Open", ("JP",))

    result = match(NEEDS, [closed, open_])

    assert ranked_ids([closed, open_]) == [open_.id]
    assert result.excluded == (Excluded(closed.id, "inactive"),)


def test_organisations_elsewhere_are_excluded_as_out_of_area() -> None:
    chiyoda = org("Chiyoda", (CHIYODA,))
    osaka_prefecture = org("Osaka", ("27",))

    result = match(NEEDS, [chiyoda, osaka_prefecture])

    assert result.candidates == ()
    assert {e.reason for e in result.excluded} == {"out_of_area"}


def test_each_exclusion_gives_the_first_reason_in_the_order_inactive_area_topic() -> None:
    everything_wrong = org("Wrong", (OSAKA,), topics=(Topic.POVERTY,), active=False)
    wrong_area_and_topic = org("Also wrong", (OSAKA,), topics=(Topic.POVERTY,))

    result = match(NEEDS, [everything_wrong, wrong_area_and_topic])

    assert dict((e.organisation_id, e.reason) for e in result.excluded) == {
        everything_wrong.id: "inactive",
        wrong_area_and_topic.id: "out_of_area",
    }


def test_ties_in_tier_and_topic_are_broken_by_name_then_id() -> None:
    b = org("B", (SHINJUKU,), n=1)
    a_second = org("A", (SHINJUKU,), n=3)
    a_first = org("A", (SHINJUKU,), n=2)

    assert ranked_ids([b, a_second, a_first]) == [a_first.id, a_second.id, b.id]


def test_the_same_organisations_in_any_order_give_the_same_result() -> None:
    organisations = [
        org("Local", (SHINJUKU,), n=1),
        org("Local", (SHINJUKU,), n=2),
        org("Catch-all", (SHINJUKU,), topics=(), n=3),
        org("Prefecture", ("13",), n=4),
        org("National", ("JP",), n=5),
        org("Elsewhere", (OSAKA,), n=6),
        org("Closed", (SHINJUKU,), active=False, n=7),
        org("Other topic", (SHINJUKU,), topics=(Topic.WOMEN,), n=8),
    ]
    expected = match(NEEDS, organisations)

    for permutation in itertools.islice(itertools.permutations(organisations), 0, None, 997):
        assert match(NEEDS, permutation) == expected


def test_at_most_ten_candidates_are_carried_and_the_eligible_count_tells_how_many_fit() -> None:
    organisations = [org(f"Org {i:02d}", ("JP",)) for i in range(MAX_CANDIDATES + 5)]
    random.Random(7).shuffle(organisations)

    result = match(NEEDS, organisations)

    assert len(result.candidates) == MAX_CANDIDATES
    assert result.eligible_count == MAX_CANDIDATES + 5
    assert [c.rank for c in result.candidates] == list(range(1, MAX_CANDIDATES + 1))
    assert [c.organisation.name for c in result.candidates] == [f"Org {i:02d}" for i in range(10)]


def test_with_no_organisations_at_all_the_reasons_say_nobody_covers_the_area() -> None:
    result = match(NEEDS, [])

    assert result.chosen is None
    assert result.unmatched_reasons() == (
        "no_active_organisation_covers_area",
        f"searched_municipality:{SHINJUKU}",
        "searched_topic:LONELY",
    )


def test_when_all_are_excluded_the_reasons_count_each_kind_of_exclusion() -> None:
    result = match(
        NEEDS,
        [
            org("Women", (SHINJUKU,), topics=(Topic.WOMEN,)),
            org("Poverty", ("13",), topics=(Topic.POVERTY,)),
            org("Closed", (SHINJUKU,), active=False),
        ],
    )

    assert result.unmatched_reasons() == (
        "no_eligible_organisation",
        f"searched_municipality:{SHINJUKU}",
        "searched_topic:LONELY",
        "inactive:1",
        "topic_not_handled:2",
    )


def _request() -> ReferralRequested:
    return ReferralRequested(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        topic=Topic.LONELY,
        municipality_code=SHINJUKU,
        severity=Severity.S3,
        lawful_basis=LawfulBasis.CONSENT,
        requested_at=datetime.now(UTC),
    )


def test_a_match_is_announced_with_the_chosen_organisation_its_reasons_and_all_candidates() -> None:
    request = _request()
    local, national = org("Local", (SHINJUKU,)), org("National", ("JP",), topics=())
    at = datetime.now(UTC)

    event = outcome_event(request, match(NEEDS, [national, local]), at=at)

    assert isinstance(event, ReferralMatched)
    assert event.referral_id == request.referral_id and event.case_id == request.case_id
    assert event.organisation.organisation_id == local.id
    assert event.organisation.name == "Local"
    assert event.organisation.webhook_url == local.webhook_url
    assert event.reasons == (f"covers_municipality:{SHINJUKU}", "handles_topic:LONELY")
    assert [(c.organisation_id, c.rank, c.tier) for c in event.candidates] == [
        (local.id, 1, "municipality"),
        (national.id, 2, "national"),
    ]
    assert (event.topic, event.municipality_code, event.severity, event.matched_at) == (
        Topic.LONELY,
        SHINJUKU,
        Severity.S3,
        at,
    )


def test_no_match_is_announced_as_unmatched_with_the_reasons() -> None:
    request = _request()

    event = outcome_event(request, match(NEEDS, []), at=datetime.now(UTC))

    assert isinstance(event, ReferralUnmatched)
    assert event.referral_id == request.referral_id
    assert event.reasons[0] == "no_active_organisation_covers_area"
