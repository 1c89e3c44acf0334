"""The operator track: a referral nobody took is re-offered to an organisation an operator chose, or
recorded as handled elsewhere; an answer to a choice nobody waits for any more is history."""

import uuid

import pytest

from contracts.events import (
    Candidate,
    HandoffOffered,
    OperatorAlertRaised,
    ReferralHandledElsewhere,
    ReofferRequested,
)
from contracts.vocabulary import AgeBand, Gender, HandledElsewhereReason, LawfulBasis, Severity, Topic
from eventkit.auth import Principal, Role
from eventkit.http import status_of
from referral.lifecycle.delivery_track import expire
from referral.lifecycle.domain import CaseNeeds, Referral
from referral.lifecycle.errors import AlreadyOffered, IllegalTransition
from referral.lifecycle.facts import CaseRecorded, Matched, Unmatched, apply, open_referral
from referral.lifecycle.operator_track import (
    ReofferAccepted,
    ReofferRefused,
    handle_elsewhere,
    request_reoffer,
)
from referral.lifecycle.outcome_track import withdraw
from referral.lifecycle.states import Action, Milestone, ReferralState, WithdrawReason
from referral.views.domain import actions_for

from ..builders import NOW, ORG_A, ORG_B, ORG_C, POLICY, candidate, later

S = ReferralState
OPERATOR = Principal("operator-1", Role.OPERATOR)


def requested() -> Referral:
    case = CaseRecorded(
        case_id=uuid.uuid4(),
        topic=Topic.SUICIDAL,
        municipality_code="131016",
        severity=Severity.S3,
        lawful_basis=LawfulBasis.CONSENT,
        needs=CaseNeeds((), AgeBand.ADULT, Gender.FEMALE, "ja"),
    )
    return open_referral(case, referral_id=uuid.uuid4(), now=NOW)


def offered(org: uuid.UUID) -> Referral:
    fact = Matched(organisation_id=org, reasons=(), candidates=(candidate(org, 1),), at=NOW)
    return apply(requested(), fact, actor="directory", policy=POLICY, now=NOW).referral


def unmatched() -> Referral:
    fact = Unmatched(reasons=("no_candidates",), at=NOW)
    return apply(requested(), fact, actor="directory", policy=POLICY, now=NOW).referral


def exhausted() -> Referral:
    change = expire(offered(ORG_A), attempt=1, at=later(1800), policy=POLICY)
    assert change is not None and change.referral.state is S.EXHAUSTED
    return change.referral


def chosen(referral: Referral, org: uuid.UUID = ORG_C) -> tuple[Referral, uuid.UUID]:
    request_id = uuid.uuid4()
    change = request_reoffer(referral, organisation_id=org, request_id=request_id, actor="op", at=later(60))
    return change.referral, request_id


def accepted(request_id: uuid.UUID, org: uuid.UUID = ORG_C) -> ReofferAccepted:
    picked: Candidate = candidate(org, 1).model_copy(update={"reasons": ("operator_choice",)})
    return ReofferAccepted(request_id=request_id, candidate=picked, at=later(61))


@pytest.mark.parametrize("make", [unmatched, exhausted])
def test_an_operator_may_reoffer_or_record_handled_elsewhere_only_when_nobody_took_the_case(make) -> None:  # type: ignore[no-untyped-def]
    assert actions_for(OPERATOR, make()) == (Action.WITHDRAW, Action.REOFFER, Action.HANDLE_ELSEWHERE)
    assert actions_for(OPERATOR, offered(ORG_A)) == (Action.WITHDRAW,)
    assert actions_for(Principal("c", Role.COUNSELLOR), make()) == (Action.WITHDRAW,)


def test_choosing_an_organisation_asks_the_directory_and_offers_nothing_yet() -> None:
    referral = unmatched()
    request_id = uuid.uuid4()
    change = request_reoffer(referral, organisation_id=ORG_C, request_id=request_id, actor="op", at=later(60))

    assert change.referral.state is S.UNMATCHED
    assert change.referral.reoffer_organisation_id == ORG_C
    (event,) = change.events
    assert isinstance(event, ReofferRequested)
    assert (event.request_id, event.organisation_id, event.severity) == (request_id, ORG_C, referral.severity)
    assert event.need_tags == referral.needs.need_tags
    assert change.entries[0].milestone is Milestone.REOFFER_REQUESTED
    assert change.entries[0].actor == "op"


def test_the_directorys_confirmation_offers_the_case_as_the_next_attempt_with_a_deadline() -> None:
    referral, request_id = chosen(exhausted())

    change = apply(referral, accepted(request_id), actor="directory", policy=POLICY, now=later(62))

    after = change.referral
    assert (after.state, after.attempt, after.organisation_id) == (S.OFFERED, 2, ORG_C)
    assert after.pending_reoffer is None
    assert change.deadline is not None and change.deadline.attempt == 2
    (offer,) = change.events
    assert isinstance(offer, HandoffOffered)
    assert (offer.attempt, offer.organisation.organisation_id) == (2, ORG_C)
    assert offer.organisation.webhook_url == "https://partner.example/1"
    assert [e.milestone for e in change.entries] == [Milestone.MATCHED, Milestone.OFFERED]


def test_a_reoffered_case_nobody_takes_is_exhausted_again_with_a_new_alert() -> None:
    first = exhausted()
    referral, request_id = chosen(first)
    offered_c = apply(
        referral, accepted(request_id), actor="directory", policy=POLICY, now=later(62)
    ).referral

    again = expire(offered_c, attempt=2, at=later(4000), policy=POLICY)

    assert again is not None and again.referral.state is S.EXHAUSTED
    alert = again.events[-1]
    assert isinstance(alert, OperatorAlertRaised)
    first_alert = expire(offered(ORG_A), attempt=1, at=later(1800), policy=POLICY)
    assert first_alert is not None
    assert alert.alert_id != first_alert.events[-1].alert_id  # type: ignore[attr-defined]


def test_a_refusal_leaves_the_referral_waiting_for_another_choice() -> None:
    referral, request_id = chosen(unmatched())
    fact = ReofferRefused(request_id=request_id, organisation_id=ORG_C, reasons=("inactive",), at=later(61))

    change = apply(referral, fact, actor="directory", policy=POLICY, now=later(61))

    assert change.referral.state is S.UNMATCHED and change.referral.pending_reoffer is None
    assert change.events == ()
    assert change.entries[0].milestone is Milestone.REOFFER_REFUSED
    assert change.entries[0].detail["reasons"] == ["inactive"]


def test_an_answer_to_a_replaced_choice_or_after_withdrawal_is_only_history() -> None:
    referral, old_request = chosen(unmatched(), ORG_B)
    referral, _ = chosen(referral, ORG_C)  # the operator changed their mind

    late = apply(referral, accepted(old_request, ORG_B), actor="directory", policy=POLICY, now=later(70))
    assert late.referral == referral and late.events == ()
    assert late.entries[0].detail == {"late": True}

    referral, request_id = chosen(unmatched())
    gone = withdraw(referral, reason=WithdrawReason.DUPLICATE, actor="c", at=later(65)).referral
    after = apply(gone, accepted(request_id), actor="directory", policy=POLICY, now=later(70))
    assert after.referral.state is S.WITHDRAWN and after.events == ()


def test_an_organisation_offered_the_case_before_cannot_be_chosen_again() -> None:
    with pytest.raises(AlreadyOffered) as raised:
        request_reoffer(exhausted(), organisation_id=ORG_A, request_id=uuid.uuid4(), actor="o", at=later(9))
    assert raised.value.code == "already_offered" and status_of(raised.value) == 409


def test_a_referral_that_is_offered_cannot_be_reoffered_or_handled_elsewhere() -> None:
    with pytest.raises(IllegalTransition):
        request_reoffer(offered(ORG_A), organisation_id=ORG_C, request_id=uuid.uuid4(), actor="o", at=NOW)
    with pytest.raises(IllegalTransition):
        handle_elsewhere(offered(ORG_A), reason=HandledElsewhereReason.OTHER, actor="o", at=NOW)


def test_handled_elsewhere_ends_the_handoff_with_a_reason_code_only() -> None:
    referral, _ = chosen(exhausted())

    change = handle_elsewhere(
        referral, reason=HandledElsewhereReason.EMERGENCY_SERVICES, actor="op", at=later(90)
    )

    assert change.referral.state is S.HANDLED_ELSEWHERE and change.referral.pending_reoffer is None
    (event,) = change.events
    assert isinstance(event, ReferralHandledElsewhere)
    assert event.reason is HandledElsewhereReason.EMERGENCY_SERVICES
    assert change.entries[0].detail == {"reason": "emergency_services"}
    with pytest.raises(IllegalTransition):
        withdraw(change.referral, reason=WithdrawReason.OTHER, actor="c", at=later(91))
