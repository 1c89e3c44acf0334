"""The referral lifecycle: when a referral opens, every transition, and facts that arrive late."""

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from contracts.events import Candidate, ConsultationRecorded
from contracts.vocabulary import Channel, LawfulBasis, Severity, Topic
from referral.domain import (
    TRANSITIONS,
    DeliveryFailed,
    Fact,
    IllegalTransition,
    Matched,
    Notified,
    Referral,
    ReferralState,
    Step,
    Unmatched,
    apply,
    decide,
    open_referral,
    should_open_referral,
)

pytestmark = pytest.mark.unit

S = ReferralState
NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
ORG = uuid.UUID("00000000-0000-4000-8000-00000000000a")
OTHER_ORG = uuid.UUID("00000000-0000-4000-8000-00000000000b")


def consultation(
    severity: Severity = Severity.S3, basis: LawfulBasis | None = LawfulBasis.CONSENT
) -> ConsultationRecorded:
    return ConsultationRecorded(
        case_id=uuid.uuid4(),
        channel=Channel.PHONE,
        topic=Topic.SUICIDAL,
        municipality_code="131016",
        severity=severity,
        lawful_basis=basis,
        recorded_at=NOW,
    )


def referral(state: ReferralState = S.REQUESTED, **changes: object) -> Referral:
    opened = open_referral(consultation(), referral_id=uuid.uuid4(), now=NOW)
    return dataclasses.replace(opened, state=state, **changes)  # type: ignore[arg-type]


def candidate(org: uuid.UUID, rank: int) -> Candidate:
    return Candidate(organisation_id=org, rank=rank, tier="municipality", reasons=("topic_match",))


def matched(org: uuid.UUID = ORG) -> Matched:
    return Matched(
        organisation_id=org,
        reasons=("municipality_match", "topic_match"),
        candidates=(candidate(org, 1), candidate(OTHER_ORG, 2)),
        at=NOW + timedelta(seconds=1),
    )


def unmatched() -> Unmatched:
    return Unmatched(reasons=("no_organisation_in_prefecture",), at=NOW + timedelta(seconds=1))


def notified(attempt: int = 1, org: uuid.UUID = ORG) -> Notified:
    return Notified(organisation_id=org, attempt=attempt, at=NOW + timedelta(seconds=2))


def delivery_failed(attempt: int = 1, org: uuid.UUID = ORG) -> DeliveryFailed:
    return DeliveryFailed(
        organisation_id=org, attempt=attempt, reason="http_503", at=NOW + timedelta(seconds=2)
    )


FACTS: dict[ReferralState, Callable[[], Fact]] = {
    S.MATCHED: matched,
    S.UNMATCHED: unmatched,
    S.NOTIFIED: notified,
    S.DELIVERY_FAILED: delivery_failed,
}

# What each fact does in each state, written out independently of TRANSITIONS: the new state,
# or None when the fact contradicts the state. A referral past requested has had its first match.
EXPECTED: dict[tuple[ReferralState, ReferralState], ReferralState | None] = {
    (S.REQUESTED, S.MATCHED): S.MATCHED,
    (S.REQUESTED, S.UNMATCHED): S.UNMATCHED,
    (S.REQUESTED, S.NOTIFIED): S.NOTIFIED,
    (S.REQUESTED, S.DELIVERY_FAILED): S.DELIVERY_FAILED,
    (S.MATCHED, S.MATCHED): S.MATCHED,
    (S.MATCHED, S.UNMATCHED): None,
    (S.MATCHED, S.NOTIFIED): S.NOTIFIED,
    (S.MATCHED, S.DELIVERY_FAILED): S.DELIVERY_FAILED,
    (S.UNMATCHED, S.MATCHED): None,
    (S.UNMATCHED, S.UNMATCHED): S.UNMATCHED,
    (S.UNMATCHED, S.NOTIFIED): None,
    (S.UNMATCHED, S.DELIVERY_FAILED): None,
    (S.NOTIFIED, S.MATCHED): S.NOTIFIED,
    (S.NOTIFIED, S.UNMATCHED): None,
    (S.NOTIFIED, S.NOTIFIED): S.NOTIFIED,
    (S.NOTIFIED, S.DELIVERY_FAILED): None,
    (S.DELIVERY_FAILED, S.MATCHED): S.DELIVERY_FAILED,
    (S.DELIVERY_FAILED, S.UNMATCHED): None,
    (S.DELIVERY_FAILED, S.NOTIFIED): None,
    (S.DELIVERY_FAILED, S.DELIVERY_FAILED): S.DELIVERY_FAILED,
}


def in_state(state: ReferralState) -> Referral:
    if state in (S.REQUESTED, S.UNMATCHED):
        return referral(state)
    return referral(state, organisation_id=ORG, attempt=1)


@pytest.mark.parametrize("severity", list(Severity))
@pytest.mark.parametrize("basis", [None, *LawfulBasis])
def test_a_referral_opens_only_for_serious_cases_with_a_lawful_basis(
    severity: Severity, basis: LawfulBasis | None
) -> None:
    expected = severity in (Severity.S3, Severity.S4) and basis is not None
    assert should_open_referral(consultation(severity, basis)) is expected


def test_a_new_referral_is_requested_with_no_organisation_and_no_attempt() -> None:
    event = consultation(Severity.S4, LawfulBasis.VITAL_INTEREST_27_1_2)
    referral_id = uuid.uuid4()
    opened = open_referral(event, referral_id=referral_id, now=NOW)
    assert (opened.id, opened.case_id, opened.state) == (referral_id, event.case_id, S.REQUESTED)
    assert (opened.organisation_id, opened.attempt, opened.reasons, opened.candidates) == (None, 0, (), ())
    assert opened.lawful_basis is LawfulBasis.VITAL_INTEREST_27_1_2


def test_a_case_without_a_lawful_basis_cannot_open_a_referral() -> None:
    with pytest.raises(ValueError, match="lawful basis"):
        open_referral(consultation(Severity.S4, None), referral_id=uuid.uuid4(), now=NOW)


def test_the_requested_event_carries_codes_and_ids_only() -> None:
    opened = open_referral(consultation(), referral_id=uuid.uuid4(), now=NOW)
    event = opened.requested_event()
    assert event.model_dump(mode="json") == {
        "case_id": str(opened.case_id),
        "referral_id": str(opened.id),
        "topic": "SUICIDAL",
        "municipality_code": "131016",
        "severity": "S3",
        "lawful_basis": "CONSENT",
        "requested_at": NOW.isoformat().replace("+00:00", "Z"),
        "need_tags": [],
        "age_band": "unknown",
        "gender": "unknown",
        "language": "ja",
    }


def test_the_transitions_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(ReferralState)


@pytest.mark.parametrize(("current", "announced"), list(EXPECTED))
def test_every_fact_in_every_state_moves_keeps_or_is_rejected_as_the_lifecycle_says(
    current: ReferralState, announced: ReferralState
) -> None:
    before = in_state(current)
    fact: Fact = FACTS[announced]()
    expected = EXPECTED[(current, announced)]
    if expected is None:
        with pytest.raises(IllegalTransition) as raised:
            apply(before, fact)
        assert raised.value.reason == f"illegal_transition:{current.value}->{announced.value}"
    else:
        assert apply(before, fact).state is expected
        assert before.state is current  # the referral given is never changed


def test_a_match_records_the_organisation_the_first_attempt_and_the_directorys_reasons() -> None:
    after = apply(referral(), matched())
    assert (after.state, after.organisation_id, after.attempt) == (S.MATCHED, ORG, 1)
    assert after.reasons == ("municipality_match", "topic_match")
    assert [c.organisation_id for c in after.candidates] == [ORG, OTHER_ORG]


def test_no_match_records_the_directorys_reasons() -> None:
    after = apply(referral(), unmatched())
    assert (after.state, after.organisation_id, after.attempt) == (S.UNMATCHED, None, 0)
    assert after.reasons == ("no_organisation_in_prefecture",)


def test_the_matched_then_notified_flow_ends_notified_on_the_first_attempt() -> None:
    after = apply(apply(referral(), matched()), notified())
    assert (after.state, after.organisation_id, after.attempt) == (S.NOTIFIED, ORG, 1)


def test_a_notification_that_overtakes_its_match_moves_the_referral_to_notified() -> None:
    after = apply(referral(), notified())
    assert (after.state, after.organisation_id, after.attempt) == (S.NOTIFIED, ORG, 1)
    assert after.reasons == ()


def test_a_match_arriving_after_the_notification_fills_gaps_but_does_not_move_back() -> None:
    notified_first = apply(referral(), notified())
    assert decide(notified_first, matched()) is Step.RECORD_ONLY
    after = apply(notified_first, matched())
    assert after.state is S.NOTIFIED
    assert (after.organisation_id, after.attempt) == (ORG, 1)
    assert after.reasons == ("municipality_match", "topic_match")
    assert len(after.candidates) == 2


def test_a_late_match_never_overwrites_the_organisation_a_delivery_named() -> None:
    failed_first = apply(referral(), delivery_failed(org=ORG))
    after = apply(failed_first, matched(org=OTHER_ORG))
    assert (after.state, after.organisation_id, after.attempt) == (S.DELIVERY_FAILED, ORG, 1)


def test_a_late_match_fills_an_organisation_that_is_missing() -> None:
    odd = referral(S.NOTIFIED, organisation_id=None, attempt=0)
    after = apply(odd, matched())
    assert (after.state, after.organisation_id, after.attempt) == (S.NOTIFIED, ORG, 1)


def test_a_repeated_match_keeps_the_first_answer() -> None:
    first = apply(referral(), matched(org=ORG))
    again = apply(first, matched(org=OTHER_ORG))
    assert decide(first, matched(org=OTHER_ORG)) is Step.RECORD_ONLY
    assert again == first


def test_a_repeated_notification_of_the_same_attempt_changes_nothing() -> None:
    once = apply(apply(referral(), matched()), notified())
    assert apply(once, notified()) == once


def test_an_outcome_of_a_newer_attempt_is_rejected_until_escalation_exists() -> None:
    once = apply(referral(), notified(attempt=1))
    with pytest.raises(IllegalTransition) as raised:
        apply(once, notified(attempt=2))
    assert raised.value.reason == "illegal_transition:notified->notified:attempt_ahead"


def test_an_outcome_of_an_earlier_attempt_is_history_whatever_it_says() -> None:
    second = referral(S.DELIVERY_FAILED, organisation_id=OTHER_ORG, attempt=2)
    assert decide(second, notified(attempt=1)) is Step.RECORD_ONLY
    assert apply(second, notified(attempt=1)) == second


def test_contradicting_delivery_outcomes_of_one_attempt_are_rejected() -> None:
    failed = apply(apply(referral(), matched()), delivery_failed())
    with pytest.raises(IllegalTransition):
        apply(failed, notified())
