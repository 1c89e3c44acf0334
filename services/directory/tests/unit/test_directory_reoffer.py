"""An operator's choice of organisation for a referral nobody took: offered even where the ranking
would have excluded it (with what it held against it), refused only when an alert would be pointless."""

import uuid
from datetime import datetime

import pytest

from contracts.events import ReofferMatched, ReofferUnmatched
from contracts.hours import JST, weekly
from contracts.vocabulary import Topic
from directory.geography.domain import Area, Tier
from directory.matching.answer import reoffer_answer
from directory.matching.domain import Listing, MatchPolicy
from directory.matching.reoffer import OPERATOR_CHOICE, judge_reoffer
from directory.register.domain import Channel, Organisation, OrgType, Service

from ..builders import needs_for, reoffer_request

SHINJUKU = "131041"
NEEDS = needs_for(Topic.LONELY, SHINJUKU)
SUNDAY_3AM = datetime(2026, 3, 8, 3, 0, tzinfo=JST)
WEEKDAYS = (weekly(["MO", "TU", "WE", "TH", "FR"], "09:00", "17:00"),)
ORG = uuid.UUID(int=7)


def listing(coverage: tuple[str, ...] = (SHINJUKU,), *, active: bool = True, **org: object) -> Listing:
    fields: dict[str, object] = {"webhook_url": "https://partner.example/hook"} | org
    organisation = Organisation(id=ORG, name="よりそい", org_type=OrgType.NPO, active=active, **fields)  # type: ignore[arg-type]
    service = Service(
        id=uuid.UUID(int=8),
        organisation_id=ORG,
        name="相談",
        coverage=coverage,
        topics=(Topic.LONELY,),
        schedules=WEEKDAYS,
    )
    return Listing(organisation, service)


def judge(listings: list[Listing], at: datetime = datetime(2026, 3, 4, 11, 0, tzinfo=JST)):  # type: ignore[no-untyped-def]
    return judge_reoffer(ORG, listings, NEEDS, area=Area.of(SHINJUKU), at=at, policy=MatchPolicy())


def test_an_eligible_choice_is_one_candidate_led_by_the_operators_choice() -> None:
    judged = judge([listing()])
    assert judged.candidate is not None and judged.refusals == ()
    assert judged.candidate.rank == 1 and judged.candidate.tier is Tier.MUNICIPALITY
    assert judged.candidate.reasons[0] == OPERATOR_CHOICE


def test_a_choice_the_ranking_would_exclude_is_offered_with_what_it_held_against_it() -> None:
    judged = judge([listing(("271004",))], at=SUNDAY_3AM)  # 大阪市, closed on a Sunday night
    assert judged.candidate is not None
    assert judged.candidate.reasons[0] == OPERATOR_CHOICE
    assert judged.candidate.reasons[1].startswith("ranking_excluded:out_of_area")
    assert judged.candidate.tier is Tier.NATIONAL
    assert judged.candidate.open_state.open_now is False  # the hours travel with it


@pytest.mark.parametrize(
    ("listings", "reasons"),
    [
        ([], ("unknown_organisation",)),
        ([listing(active=False)], ("inactive",)),
        ([listing(webhook_url=None, channels=(Channel.WEBHOOK,))], ("unreachable:webhook",)),
    ],
)
def test_an_unknown_inactive_or_unreachable_choice_is_refused(
    listings: list[Listing], reasons: tuple[str, ...]
) -> None:
    judged = judge(listings)
    assert (judged.candidate, judged.refusals) == (None, reasons)


def test_the_answer_names_the_request_and_carries_the_candidates_channels_and_hours() -> None:
    request = reoffer_request(ORG, requested_at=SUNDAY_3AM, municipality_code=SHINJUKU)
    matched = reoffer_answer(request, judge([listing()]).candidate, (), at=SUNDAY_3AM)
    assert isinstance(matched, ReofferMatched)
    assert (matched.request_id, matched.organisation.organisation_id) == (request.request_id, ORG)
    assert matched.organisation.webhook_url == "https://partner.example/hook"
    assert matched.organisation.hours is not None

    refused = reoffer_answer(request, None, ("inactive",), at=SUNDAY_3AM)
    assert isinstance(refused, ReofferUnmatched) and refused.reasons == ("inactive",)
