"""Properties of `match` over random registers: exclusion and ranking never disagree."""

import random
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.municipality import check_digit
from contracts.vocabulary import Severity, Topic
from directory.domain import MAX_CANDIDATES, Organisation, OrgType, ReferralNeeds, match

pytestmark = pytest.mark.unit


@st.composite
def municipality_codes(draw: st.DrawFn) -> str:
    # Few prefectures and towns, so that random coverages often hit, miss and overlap.
    body = f"{draw(st.sampled_from(['01', '13', '27']))}{draw(st.sampled_from(['101', '104', '202']))}"
    return body + str(check_digit(body))


coverage_entries = st.one_of(municipality_codes(), st.sampled_from(["01", "13", "27", "JP"]))

organisations = st.builds(
    Organisation,
    id=st.uuids(),
    name=st.sampled_from(["あおば", "ひだまり", "Alpha", "Beta"]),
    org_type=st.sampled_from(OrgType),
    coverage=st.lists(coverage_entries, min_size=1, max_size=4).map(tuple),
    topics=st.lists(st.sampled_from(Topic), max_size=3, unique=True).map(tuple),
    active=st.booleans(),
)

needs = st.builds(
    ReferralNeeds,
    topic=st.sampled_from(Topic),
    municipality_code=municipality_codes(),
    severity=st.sampled_from(Severity),
)


@given(needs=needs, register=st.lists(organisations, max_size=25, unique_by=lambda o: o.id))
def test_no_excluded_organisation_is_ranked_and_every_ranked_one_covers_the_area_and_topic(
    needs: ReferralNeeds, register: list[Organisation]
) -> None:
    result = match(needs, register)

    excluded_ids = {e.organisation_id for e in result.excluded}
    ranked = [c.organisation for c in result.candidates]
    assert not excluded_ids & {o.id for o in ranked}
    for organisation in ranked:
        assert organisation.active
        assert organisation.tier_for(needs.municipality_code) is not None
        assert not organisation.topics or needs.topic in organisation.topics
    assert [c.rank for c in result.candidates] == list(range(1, len(ranked) + 1))
    # Nobody is lost: each organisation is either excluded or eligible.
    assert len(excluded_ids) + result.eligible_count == len(register)
    assert len(ranked) == min(result.eligible_count, MAX_CANDIDATES)


@given(
    needs=needs, register=st.lists(organisations, max_size=25, unique_by=lambda o: o.id), seed=st.randoms()
)
def test_the_ranking_does_not_depend_on_the_order_of_the_register(
    needs: ReferralNeeds, register: list[Organisation], seed: random.Random
) -> None:
    shuffled = list(register)
    seed.shuffle(shuffled)

    assert match(needs, shuffled) == match(needs, register)


def test_ids_break_ties_so_that_equal_names_rank_by_id() -> None:
    low, high = uuid.UUID(int=1), uuid.UUID(int=2)
    twins = [
        Organisation(id=i, name="Same", org_type=OrgType.NPO, coverage=("JP",), topics=())
        for i in (high, low)
    ]
    result = match(ReferralNeeds(Topic.LONELY, "131016", Severity.S3), twins)

    assert [c.organisation.id for c in result.candidates] == [low, high]
