"""The referral lifecycle: when a referral opens, both tracks' transitions, escalation, errors."""

import dataclasses
import uuid
from datetime import datetime, timedelta

import pytest

from contracts.events import (
    ConsultationRecorded,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    HandoffOutcomeRecorded,
    OperatorAlertRaised,
    ReferralEscalated,
    ReferralExhausted,
    ReferralWithdrawn,
)
from contracts.vocabulary import (
    AlertKind,
    DeclineReason,
    LawfulBasis,
    OutcomeCode,
    OutcomeStage,
    Severity,
    Topic,
)
from eventkit.http import status_of
from referral.lifecycle.delivery_track import acknowledge, acknowledgement_of, decline, expire
from referral.lifecycle.domain import Change, HandoffPolicy, Referral
from referral.lifecycle.errors import IllegalTransition, InvalidOutcome, NotOffered, Reassigned, Withdrawn
from referral.lifecycle.facts import (
    DeliveryFailed,
    Matched,
    Notified,
    Unmatched,
    apply,
    open_referral,
    should_open_referral,
)
from referral.lifecycle.handlers import case_recorded
from referral.lifecycle.outcome_track import record_outcome, withdraw
from referral.lifecycle.states import (
    TRANSITIONS,
    AccompaniedTo,
    Action,
    AttemptState,
    Milestone,
    ReferralState,
    WithdrawReason,
)

from ..builders import NOW, ORG_A, ORG_B, ORG_C, POLICY, candidate, consultation_recorded, later

S = ReferralState


def consultation(
    severity: Severity = Severity.S3, basis: LawfulBasis | None = LawfulBasis.CONSENT
) -> ConsultationRecorded:
    return consultation_recorded(recorded_at=NOW, severity=severity, basis=basis, topic=Topic.SUICIDAL)


def requested(severity: Severity = Severity.S3) -> Referral:
    return open_referral(case_recorded(consultation(severity)), referral_id=uuid.uuid4(), now=NOW)


def matched(*orgs: uuid.UUID) -> Matched:
    orgs = orgs or (ORG_A, ORG_B)
    return Matched(
        organisation_id=orgs[0],
        reasons=("municipality_match",),
        candidates=tuple(
            candidate(org, rank, channels=("webhook", "email")) for rank, org in enumerate(orgs, start=1)
        ),
        at=NOW,
    )


def offered(*orgs: uuid.UUID, severity: Severity = Severity.S3) -> Referral:
    return apply(requested(severity), matched(*orgs), actor="directory", policy=POLICY, now=NOW).referral


def notified(referral: Referral, attempt: int | None = None, channel: str = "webhook") -> Referral:
    number = attempt or referral.attempt
    org = referral.attempt_no(number).organisation_id  # type: ignore[union-attr]
    fact = Notified(organisation_id=org, attempt=number, channel=channel, at=NOW)
    return apply(referral, fact, actor="notify", policy=POLICY, now=NOW).referral


def accepted() -> Referral:
    return acknowledge(offered(), attempt=1, organisation_id=ORG_A, via="api", actor="p", at=NOW).referral


# ---- opening -----------------------------------------------------------------------------------


@pytest.mark.parametrize("severity", list(Severity))
@pytest.mark.parametrize("basis", [None, *LawfulBasis])
def test_a_referral_opens_for_serious_cases_with_a_basis_and_referral_level_ones_with_consent(
    severity: Severity, basis: LawfulBasis | None
) -> None:
    expected = basis is not None and (
        severity in (Severity.S3, Severity.S4) or (severity is Severity.S2 and basis is LawfulBasis.CONSENT)
    )
    assert should_open_referral(case_recorded(consultation(severity, basis))) is expected


def test_a_new_referral_is_requested_with_no_organisation_and_no_attempt() -> None:
    opened = requested(Severity.S4)
    assert (opened.state, opened.organisation_id, opened.attempt, opened.attempts) == (
        S.REQUESTED,
        None,
        0,
        (),
    )


def test_a_case_without_a_lawful_basis_cannot_open_a_referral() -> None:
    with pytest.raises(ValueError, match="lawful basis"):
        open_referral(case_recorded(consultation(Severity.S4, None)), referral_id=uuid.uuid4(), now=NOW)


def test_the_transitions_table_covers_every_state_and_only_names_known_states() -> None:
    assert set(TRANSITIONS) == set(ReferralState)
    assert all(target in ReferralState for row in TRANSITIONS.values() for target in row.values())


# ---- the delivery track ------------------------------------------------------------------------


def test_a_match_offers_attempt_one_to_the_first_ranked_candidate_with_its_channels_and_deadline() -> None:
    change = apply(requested(), matched(ORG_B, ORG_A), actor="directory", policy=POLICY, now=NOW)
    after = change.referral
    assert (after.state, after.organisation_id, after.attempt) == (S.OFFERED, ORG_B, 1)
    assert after.deadline_at == NOW + timedelta(minutes=30)
    assert [e.milestone for e in change.entries] == [Milestone.MATCHED, Milestone.OFFERED]
    [event] = change.events
    assert isinstance(event, HandoffOffered)
    assert (event.attempt, event.organisation.organisation_id) == (1, ORG_B)
    assert event.organisation.channels == ("webhook", "email")
    assert event.organisation.email == "alerts1@partner.example"
    assert event.deadline_at == NOW + timedelta(minutes=30)
    assert change.deadline is not None and change.deadline.due_at == event.deadline_at


def test_an_emergency_gets_ten_minutes_by_default() -> None:
    assert offered(severity=Severity.S4).deadline_at == NOW + timedelta(minutes=10)


def test_the_offer_carries_ids_and_codes_only() -> None:
    change = apply(requested(), matched(), actor="directory", policy=POLICY, now=NOW)
    payload = change.events[0].model_dump(mode="json")
    assert set(payload) == set(HandoffOffered.model_fields)
    assert set(payload["organisation"]) == {"organisation_id", "name", "webhook_url", "email", "channels"}


def test_a_repeated_match_is_recorded_but_never_offers_twice() -> None:
    once = offered()
    change = apply(once, matched(ORG_C), actor="directory", policy=POLICY, now=later(5))
    assert change.referral == once and change.events == ()
    assert change.entries[0].detail == {"late": True}


def test_no_match_makes_the_referral_unmatched_and_a_match_cannot_follow() -> None:
    unmatched = apply(
        requested(),
        Unmatched(reasons=("no_eligible_organisation",), at=NOW),
        actor="d",
        policy=POLICY,
        now=NOW,
    ).referral
    assert unmatched.state is S.UNMATCHED
    with pytest.raises(IllegalTransition) as raised:
        apply(unmatched, matched(), actor="d", policy=POLICY, now=NOW)
    assert raised.value.reason == "illegal_transition:unmatched->matched"


def test_the_first_channel_to_reach_the_partner_makes_it_notified_and_the_next_is_recorded() -> None:
    referral = notified(offered())
    assert referral.state is S.NOTIFIED
    assert referral.current is not None and referral.current.state is AttemptState.NOTIFIED
    again = apply(
        referral,
        Notified(organisation_id=ORG_A, attempt=1, channel="email", at=NOW),
        actor="n",
        policy=POLICY,
        now=NOW,
    )
    assert again.referral == referral and again.entries[0].detail == {"channel": "email"}


def test_a_notification_of_an_attempt_never_offered_is_illegal() -> None:
    fact = Notified(organisation_id=ORG_A, attempt=2, channel="webhook", at=NOW)
    with pytest.raises(IllegalTransition) as raised:
        apply(offered(), fact, actor="notify", policy=POLICY, now=NOW)
    assert raised.value.reason == "illegal_transition:offered->notified:attempt_ahead"


def test_acknowledging_the_open_attempt_accepts_it_and_announces_who_and_which_attempt() -> None:
    change = acknowledge(
        notified(offered()), attempt=1, organisation_id=ORG_A, via="link", actor="p", at=later(60)
    )
    after = change.referral
    assert (after.state, after.deadline_at) == (S.ACKNOWLEDGED, None)
    [event] = change.events
    assert isinstance(event, HandoffAcknowledged)
    assert (event.organisation_id, event.attempt, event.via) == (ORG_A, 1, "link")


def test_acknowledging_twice_is_harmless() -> None:
    once = acknowledge(offered(), attempt=1, organisation_id=ORG_A, via="api", actor="p", at=NOW).referral
    twice = acknowledge(once, attempt=1, organisation_id=ORG_A, via="link", actor="p", at=later(9))
    assert twice.repeated and twice.referral == once and twice.events == ()


def test_another_organisation_cannot_acknowledge_an_attempt_not_offered_to_it() -> None:
    with pytest.raises(NotOffered):
        acknowledge(offered(), attempt=1, organisation_id=ORG_B, via="api", actor="p", at=NOW)
    with pytest.raises(NotOffered):
        acknowledge(offered(), attempt=2, organisation_id=ORG_A, via="api", actor="p", at=NOW)


def test_expiry_offers_the_next_candidate_with_a_fresh_deadline() -> None:
    change = expire(notified(offered()), attempt=1, at=later(1800), policy=POLICY)
    assert change is not None
    after = change.referral
    assert (after.state, after.organisation_id, after.attempt) == (S.OFFERED, ORG_B, 2)
    assert after.deadline_at == later(1800) + timedelta(minutes=30)
    assert [type(e) for e in change.events] == [HandoffExpired, ReferralEscalated, HandoffOffered]
    escalated = change.events[1]
    assert isinstance(escalated, ReferralEscalated)
    assert (escalated.from_attempt, escalated.to_attempt, escalated.cause) == (1, 2, "expired")
    assert [e.milestone for e in change.entries] == [
        Milestone.EXPIRED,
        Milestone.ESCALATED,
        Milestone.OFFERED,
    ]
    assert after.attempt_no(1).state is AttemptState.EXPIRED  # type: ignore[union-attr]


def test_a_timer_of_an_attempt_that_ended_is_spent_without_effect() -> None:
    assert expire(accepted(), attempt=1, at=later(1800), policy=POLICY) is None
    moved = expire(offered(), attempt=1, at=later(1800), policy=POLICY)
    assert moved is not None
    assert expire(moved.referral, attempt=1, at=later(1801), policy=POLICY) is None


def a_declines_attempt_1(
    referral: Referral, reason: DeclineReason = DeclineReason.OTHER, at: datetime = NOW
) -> Change:
    return decline(referral, attempt=1, organisation_id=ORG_A, reason=reason, actor="p", at=at, policy=POLICY)


def test_a_decline_records_the_reason_code_and_moves_on_at_once() -> None:
    change = a_declines_attempt_1(offered(), DeclineReason.NO_CAPACITY, at=later(5))
    assert change.referral.organisation_id == ORG_B
    declined = change.events[0]
    assert isinstance(declined, HandoffDeclined) and declined.reason is DeclineReason.NO_CAPACITY
    assert change.events[1].cause == "declined"  # type: ignore[attr-defined]


def test_declining_twice_is_harmless_but_declining_after_acknowledging_is_illegal() -> None:
    once = a_declines_attempt_1(offered()).referral
    assert a_declines_attempt_1(once).repeated
    with pytest.raises(IllegalTransition):
        a_declines_attempt_1(accepted())


def test_a_late_acknowledgement_after_the_handoff_moved_on_is_reassigned() -> None:
    moved = expire(offered(), attempt=1, at=later(1800), policy=POLICY)
    assert moved is not None
    with pytest.raises(Reassigned) as raised:
        acknowledge(moved.referral, attempt=1, organisation_id=ORG_A, via="link", actor="p", at=later(1900))
    assert (status_of(raised.value), raised.value.code) == (409, "reassigned")
    assert "reassigned" in raised.value.message
    with pytest.raises(Reassigned):
        acknowledgement_of(moved.referral, attempt=1, organisation_id=ORG_A)


def test_when_every_channel_failed_the_next_candidate_is_offered_without_waiting() -> None:
    fact = DeliveryFailed(organisation_id=ORG_A, attempt=1, reason="http_503", at=later(30))
    change = apply(offered(), fact, actor="notify", policy=POLICY, now=later(30))
    assert (change.referral.organisation_id, change.referral.attempt) == (ORG_B, 2)
    assert change.events[0].cause == "delivery_failed"  # type: ignore[attr-defined]
    assert change.entries[0].milestone is Milestone.DELIVERY_FAILED


def test_a_delivery_failure_contradicting_a_notification_of_the_same_attempt_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        apply(
            notified(offered()),
            DeliveryFailed(organisation_id=ORG_A, attempt=1, reason="http_503", at=NOW),
            actor="notify",
            policy=POLICY,
            now=NOW,
        )


def test_after_the_last_candidate_the_referral_is_exhausted_and_operators_are_alerted() -> None:
    referral = offered(ORG_A, ORG_B)
    first = expire(referral, attempt=1, at=later(1800), policy=POLICY)
    assert first is not None
    last = expire(first.referral, attempt=2, at=later(3600), policy=POLICY)
    assert last is not None
    assert (last.referral.state, last.referral.deadline_at) == (S.EXHAUSTED, None)
    assert [type(e) for e in last.events] == [HandoffExpired, ReferralExhausted, OperatorAlertRaised]
    alert = last.events[2]
    assert isinstance(alert, OperatorAlertRaised)
    assert (alert.kind, alert.referral_id, alert.severity) == (
        AlertKind.REFERRAL_EXHAUSTED,
        referral.id,
        Severity.S3,
    )
    assert alert.detail == ("cause:expired", "attempts:2")
    assert last.events[1].attempts == 2  # type: ignore[attr-defined]


def test_max_attempts_caps_escalation_even_with_more_candidates() -> None:
    policy = HandoffPolicy(max_attempts=1)
    referral = apply(requested(), matched(ORG_A, ORG_B, ORG_C), actor="d", policy=policy, now=NOW).referral
    change = expire(referral, attempt=1, at=later(1800), policy=policy)
    assert change is not None and change.referral.state is S.EXHAUSTED


def test_an_organisation_that_could_not_be_alerted_does_not_spend_an_attempt() -> None:
    policy = HandoffPolicy(max_attempts=1)
    referral = apply(requested(), matched(ORG_A, ORG_B, ORG_C), actor="d", policy=policy, now=NOW).referral
    unreachable = DeliveryFailed(organisation_id=ORG_A, attempt=1, reason="no_webhook_url", at=later(5))

    moved = apply(referral, unreachable, actor="notify", policy=policy, now=later(5))
    assert (moved.referral.state, moved.referral.organisation_id, moved.referral.attempts_spent) == (
        S.OFFERED,
        ORG_B,
        1,
    )
    # ORG_B was alerted and let it expire: that spent the one attempt allowed.
    notified_b = notified(moved.referral)
    last = expire(notified_b, attempt=2, at=later(1800), policy=policy)
    assert last is not None and last.referral.state is S.EXHAUSTED
    assert last.events[1].attempts == 1  # type: ignore[attr-defined]


def test_the_request_and_every_offer_carry_the_cases_needs() -> None:
    referral = offered(ORG_A, ORG_B)
    request = referral.requested_event()
    change = expire(referral, attempt=1, at=later(1800), policy=POLICY)
    assert change is not None
    offer = change.events[-1]

    assert isinstance(offer, HandoffOffered)
    assert (request.need_tags, request.age_band, request.gender, request.language) == (
        referral.needs.need_tags,
        referral.needs.age_band,
        referral.needs.gender,
        referral.needs.language,
    )
    assert (offer.need_tags, offer.age_band, offer.language) == (
        referral.needs.need_tags,
        referral.needs.age_band,
        referral.needs.language,
    )


def test_an_organisation_ranked_twice_is_offered_once() -> None:
    referral = apply(requested(), matched(ORG_A, ORG_A, ORG_B), actor="d", policy=POLICY, now=NOW).referral
    change = expire(referral, attempt=1, at=later(1800), policy=POLICY)
    assert change is not None and change.referral.organisation_id == ORG_B


# ---- the outcome track -------------------------------------------------------------------------


def outcome(
    referral: Referral, stage: OutcomeStage, organisation_id: uuid.UUID = ORG_A, **kw: object
) -> Referral:
    return record_outcome(
        referral,
        organisation_id=organisation_id,
        stage=stage,
        outcome=kw.get("outcome"),  # type: ignore[arg-type]
        accompanied_to=kw.get("accompanied_to"),  # type: ignore[arg-type]
        actor="p",
        at=NOW,
    ).referral


def test_the_outcome_track_runs_contacted_accompanied_closed() -> None:
    contacted = outcome(accepted(), OutcomeStage.CONTACTED)
    accompanied = outcome(contacted, OutcomeStage.ACCOMPANIED, accompanied_to=AccompaniedTo.HOSPITAL)
    again = outcome(accompanied, OutcomeStage.ACCOMPANIED, accompanied_to=AccompaniedTo.POLICE)
    closed = outcome(again, OutcomeStage.CLOSED, outcome=OutcomeCode.SUPPORTED)
    assert [r.state for r in (contacted, accompanied, again, closed)] == [
        S.CONTACTED,
        S.ACCOMPANIED,
        S.ACCOMPANIED,
        S.CLOSED,
    ]


def test_recording_an_outcome_announces_stage_and_codes() -> None:
    change = record_outcome(
        outcome(accepted(), OutcomeStage.CONTACTED),
        organisation_id=ORG_A,
        stage=OutcomeStage.ACCOMPANIED,
        outcome=None,
        accompanied_to=AccompaniedTo.WELFARE_OFFICE,
        actor="p",
        at=NOW,
    )
    [event] = change.events
    assert isinstance(event, HandoffOutcomeRecorded)
    assert (event.stage, event.accompanied_to) == (OutcomeStage.ACCOMPANIED, "welfare_office")


def test_a_partner_that_could_not_reach_the_person_may_close_without_contact() -> None:
    assert outcome(accepted(), OutcomeStage.CLOSED, outcome=OutcomeCode.COULD_NOT_REACH).state is S.CLOSED


@pytest.mark.parametrize(
    ("start", "stage", "kw"),
    [
        ("accepted", OutcomeStage.ACCOMPANIED, {"accompanied_to": AccompaniedTo.POLICE}),
        ("closed", OutcomeStage.CONTACTED, {}),
        ("contacted", OutcomeStage.CONTACTED, {}),
    ],
)
def test_illegal_outcome_transitions_are_rejected_with_a_clear_error(
    start: str, stage: OutcomeStage, kw: dict[str, object]
) -> None:
    referral = accepted()
    if start in ("contacted", "closed"):
        referral = outcome(referral, OutcomeStage.CONTACTED)
    if start == "closed":
        referral = outcome(referral, OutcomeStage.CLOSED, outcome=OutcomeCode.SUPPORTED)
    with pytest.raises(IllegalTransition) as raised:
        outcome(referral, stage, **kw)
    assert (status_of(raised.value), raised.value.code) == (409, "illegal_transition")
    assert f"cannot become {stage.value}" in raised.value.message


def test_outcome_codes_must_fit_the_stage() -> None:
    with pytest.raises(InvalidOutcome):
        outcome(accepted(), OutcomeStage.CLOSED)
    with pytest.raises(InvalidOutcome):
        outcome(accepted(), OutcomeStage.CONTACTED, outcome=OutcomeCode.SUPPORTED)


def test_only_the_accepting_organisation_records_outcomes() -> None:
    with pytest.raises(NotOffered):
        outcome(accepted(), OutcomeStage.CONTACTED, organisation_id=ORG_B)
    with pytest.raises(NotOffered):
        outcome(offered(), OutcomeStage.CONTACTED)


def test_withdrawing_ends_the_open_offer_and_a_late_acknowledgement_hears_withdrawn() -> None:
    change = withdraw(notified(offered()), reason=WithdrawReason.DUPLICATE, actor="c", at=NOW)
    after = change.referral
    assert (after.state, after.deadline_at) == (S.WITHDRAWN, None)
    assert after.current is not None and after.current.state is AttemptState.WITHDRAWN
    [event] = change.events
    assert isinstance(event, ReferralWithdrawn) and event.reason == "duplicate"
    with pytest.raises(Withdrawn) as raised:
        acknowledge(after, attempt=1, organisation_id=ORG_A, via="api", actor="p", at=NOW)
    assert raised.value.code == "withdrawn"
    assert expire(after, attempt=1, at=later(1800), policy=POLICY) is None


def test_a_closed_or_withdrawn_referral_cannot_be_withdrawn() -> None:
    gone = withdraw(offered(), reason=WithdrawReason.OTHER, actor="c", at=NOW).referral
    with pytest.raises(IllegalTransition):
        withdraw(gone, reason=WithdrawReason.OTHER, actor="c", at=NOW)


def test_an_exhausted_referral_may_still_be_withdrawn() -> None:
    policy = HandoffPolicy(max_attempts=1)
    referral = apply(requested(), matched(ORG_A), actor="d", policy=policy, now=NOW).referral
    exhausted = expire(referral, attempt=1, at=later(1800), policy=policy)
    assert exhausted is not None
    assert (
        withdraw(exhausted.referral, reason=WithdrawReason.OTHER, actor="c", at=NOW).referral.state
        is S.WITHDRAWN
    )


def test_every_action_missing_from_a_row_is_refused() -> None:
    closed = dataclasses.replace(accepted(), state=S.CLOSED)
    assert Action.WITHDRAW not in TRANSITIONS[S.CLOSED]
    with pytest.raises(IllegalTransition) as raised:
        withdraw(closed, reason=WithdrawReason.OTHER, actor="c", at=NOW)
    assert raised.value.reason == "illegal_transition:closed->withdrawn"
