"""Properties of `match` over random registers: exclusion and ranking never disagree."""

import random
import uuid
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from contracts.hours import JST
from contracts.vocabulary import AgeBand, Gender, IssueTag, Severity, Topic
from directory.geography.domain import Area
from directory.matching.domain import MAX_CANDIDATES, Listing, ReferralNeeds
from directory.matching.ranking import match
from directory.register.domain import Capability, Organisation, OrgType, Service, ServiceStatus

from ..builders import needs_for, organisation_with_service
from ..strategies import capacities, eligibilities, municipality_codes, weekly_rules

NOW = datetime(2026, 1, 2, 10, 0, tzinfo=JST)  # inside the year-end closure, a Friday


codes = municipality_codes(["01", "13", "27"], ["101", "104", "202"])
coverage_entries = st.one_of(codes, st.sampled_from(["01", "13", "27", "JP"]))
# Capacity reported an hour ago counts; three days ago it is too old to count.
reports = st.sampled_from([NOW - timedelta(hours=1), NOW - timedelta(days=3)])


@st.composite
def listings(draw: st.DrawFn) -> Listing:
    org_id = draw(st.uuids())
    organisation = Organisation(
        id=org_id,
        name=draw(st.sampled_from(["あおば", "ひだまり", "Alpha", "Beta"])),
        org_type=draw(st.sampled_from(OrgType)),
        active=draw(st.booleans()),
    )
    service = Service(
        id=draw(st.uuids()),
        organisation_id=org_id,
        name="service",
        coverage=tuple(draw(st.lists(coverage_entries, min_size=1, max_size=4))),
        topics=tuple(draw(st.lists(st.sampled_from(Topic), max_size=3, unique=True))),
        capabilities=draw(st.frozensets(st.sampled_from(Capability))),
        languages=tuple(draw(st.lists(st.sampled_from(["ja", "en", "vi"]), min_size=1, unique=True))),
        eligibility=draw(eligibilities([Gender.FEMALE, Gender.MALE, Gender.OTHER])),
        schedules=tuple(draw(st.lists(weekly_rules, max_size=2))),
        capacity=draw(st.none() | capacities(3, updated=NOW, reported_at=reports)),
        status=draw(st.sampled_from(ServiceStatus)),
    )
    return Listing(organisation, service)


needs = st.builds(
    ReferralNeeds,
    topic=st.sampled_from(Topic),
    municipality_code=codes,
    severity=st.sampled_from(Severity),
    need_tags=st.lists(st.sampled_from(IssueTag), max_size=3, unique=True).map(tuple),
    age_band=st.sampled_from(AgeBand),
    gender=st.sampled_from(Gender),
    language=st.sampled_from(["ja", "en", "vi"]),
)


@given(needs=needs, register=st.lists(listings(), max_size=25, unique_by=lambda x: x.organisation.id))
def test_no_excluded_organisation_is_ranked_and_every_ranked_one_is_eligible(
    needs: ReferralNeeds, register: list[Listing]
) -> None:
    area = Area.of(needs.municipality_code)
    result = match(needs, register, area=area, at=NOW)

    excluded_ids = {e.organisation_id for e in result.excluded}
    ranked = result.candidates
    assert not excluded_ids & {c.organisation.id for c in ranked}
    for candidate in ranked:
        service = candidate.service
        assert candidate.organisation.active and service.status is ServiceStatus.ACTIVE
        assert area.tier_of(service.coverage) is candidate.tier
        assert service.handles(needs.topic)
        bounds, e = needs.age_band.bounds, service.eligibility
        if bounds:
            assert e.minimum_age is None or bounds[1] >= e.minimum_age
            assert e.maximum_age is None or bounds[0] <= e.maximum_age
        if e.genders and needs.gender is not Gender.UNKNOWN:
            assert needs.gender in e.genders
        if needs.language != "ja":
            assert needs.language in service.languages or Capability.MULTILINGUAL in service.capabilities
        assert candidate.organisation.reachable
        if service.capacity and NOW - service.capacity.reported_at <= timedelta(hours=24):
            assert service.capacity.available > 0
        if needs.severity.is_serious:
            # Unknown hours may be offered (ranked below known-open ones); known-closed never.
            assert not candidate.open_state.closed
    assert [c.rank for c in ranked] == list(range(1, len(ranked) + 1))
    # Nobody is lost: each organisation is either excluded or eligible.
    assert len(excluded_ids) + result.eligible_count == len(register)
    assert len(ranked) == min(result.eligible_count, MAX_CANDIDATES)


@given(
    needs=needs,
    register=st.lists(listings(), max_size=25, unique_by=lambda x: x.organisation.id),
    seed=st.randoms(),
)
def test_the_ranking_does_not_depend_on_the_order_of_the_register(
    needs: ReferralNeeds, register: list[Listing], seed: random.Random
) -> None:
    shuffled = list(register)
    seed.shuffle(shuffled)
    area = Area.of(needs.municipality_code)

    assert match(needs, shuffled, area=area, at=NOW) == match(needs, register, area=area, at=NOW)


def test_ids_break_ties_so_that_equal_names_rank_by_id() -> None:
    low, high = uuid.UUID(int=1), uuid.UUID(int=2)
    twins = [Listing(*organisation_with_service("Same", ("JP",), org_id=i)) for i in (high, low)]
    result = match(needs_for(Topic.LONELY, "131016", Severity.S3), twins, area=Area.of("131016"), at=NOW)

    assert [c.organisation.id for c in result.candidates] == [low, high]
