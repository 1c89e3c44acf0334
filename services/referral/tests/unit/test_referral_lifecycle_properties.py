"""Property-based: no sequence of facts and commands reaches an illegal state, and every referral
ends acknowledged, exhausted or withdrawn once its deadlines have run out."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import Candidate
from contracts.vocabulary import (
    Channel,
    DeclineReason,
    OutcomeCode,
    OutcomeStage,
    Severity,
)
from referral.lifecycle.delivery_track import acknowledge, decline, expire
from referral.lifecycle.domain import Change, HandoffPolicy, Referral
from referral.lifecycle.errors import LifecycleError
from referral.lifecycle.facts import DeliveryFailed, Matched, Notified, apply, open_referral
from referral.lifecycle.handlers import case_recorded
from referral.lifecycle.outcome_track import delivery_outcome, record_outcome, withdraw
from referral.lifecycle.states import (
    ACCEPTED,
    OPEN_ATTEMPT,
    OPEN_OFFER,
    TRANSITIONS,
    AccompaniedTo,
    AttemptState,
    ReferralState,
    WithdrawReason,
)

from ..builders import consultation_recorded

START = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)
ORGS = [uuid.UUID(int=i + 1) for i in range(5)]


@dataclass(frozen=True)
class Step:
    kind: str
    attempt_offset: int = 0  # relative to the current attempt, so sequences stay meaningful
    org: int = 0
    code: int = 0


steps = st.builds(
    Step,
    kind=st.sampled_from(
        ["notify", "fail", "ack", "ack_other", "decline", "expire", "expire_old", "outcome", "withdraw"]
    ),
    attempt_offset=st.integers(-2, 1),
    org=st.integers(0, len(ORGS) - 1),
    code=st.integers(0, 8),
)


def fresh(candidates: int, severity: Severity, policy: HandoffPolicy) -> Referral:
    event = consultation_recorded(
        recorded_at=START, severity=severity, channel=Channel.CHAT, municipality_code="131041"
    )
    requested = open_referral(case_recorded(event), referral_id=uuid.uuid4(), now=START)
    ranked = tuple(
        Candidate(organisation_id=ORGS[i], rank=i + 1, tier="municipality", reasons=())
        for i in range(candidates)
    )
    match = Matched(organisation_id=ORGS[0], reasons=(), candidates=ranked, at=START)
    return apply(requested, match, actor="directory", policy=policy, now=START).referral


def run(referral: Referral, step: Step, *, at: datetime, policy: HandoffPolicy) -> Change | None:
    number = max(referral.attempt + step.attempt_offset, 1)
    current = referral.current
    org = current.organisation_id if current is not None else ORGS[0]
    stages = list(OutcomeStage)
    match step.kind:
        case "notify" | "fail":
            fact = (
                Notified(organisation_id=org, attempt=number, channel="webhook", at=at)
                if step.kind == "notify"
                else DeliveryFailed(organisation_id=org, attempt=number, reason="http_503", at=at)
            )
            return apply(referral, fact, actor="notify", policy=policy, now=at)
        case "ack":
            return acknowledge(referral, attempt=number, organisation_id=org, via="api", actor="p", at=at)
        case "ack_other":
            return acknowledge(
                referral, attempt=number, organisation_id=ORGS[step.org], via="link", actor="p", at=at
            )
        case "decline":
            reason = list(DeclineReason)[step.code % len(DeclineReason)]
            return decline(
                referral, attempt=number, organisation_id=org, reason=reason, actor="p", at=at, policy=policy
            )
        case "expire":
            return expire(referral, attempt=referral.attempt, at=at, policy=policy)
        case "expire_old":
            return expire(referral, attempt=number, at=at, policy=policy)
        case "outcome":
            stage = stages[step.code % len(stages)]
            return record_outcome(
                referral,
                organisation_id=org,
                stage=stage,
                outcome=list(OutcomeCode)[step.code % len(OutcomeCode)]
                if stage is OutcomeStage.CLOSED
                else None,
                accompanied_to=(
                    list(AccompaniedTo)[step.code % len(AccompaniedTo)]
                    if stage is OutcomeStage.ACCOMPANIED
                    else None
                ),
                actor="p",
                at=at,
            )
        case "withdraw":
            return withdraw(
                referral, reason=list(WithdrawReason)[step.code % len(WithdrawReason)], actor="c", at=at
            )
    raise AssertionError(step.kind)


def check_invariants(referral: Referral, policy: HandoffPolicy, candidates: int) -> None:
    attempts = referral.attempts
    assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
    assert referral.attempt == len(attempts) >= 1
    # Attempts that alerted somebody spend the budget; unreachable ones are passed over free.
    assert referral.attempts_spent <= policy.max_attempts and len(attempts) <= candidates
    assert referral.attempts_spent == sum(1 for a in attempts if a.state is not AttemptState.DELIVERY_FAILED)
    assert len({a.organisation_id for a in attempts}) == len(attempts), "an organisation offered twice"
    current = referral.current
    assert current is not None and referral.organisation_id == current.organisation_id
    open_attempts = [a for a in attempts if a.state in OPEN_ATTEMPT]
    if referral.state in OPEN_OFFER:
        assert open_attempts == [current]
        assert referral.deadline_at == current.deadline_at
        assert current.state.value == referral.state.value
    else:
        assert open_attempts == []
        assert referral.deadline_at is None
    acknowledged = [a for a in attempts if a.state is AttemptState.ACKNOWLEDGED]
    assert len(acknowledged) <= 1
    if referral.state in ACCEPTED:
        assert acknowledged == [current]
    if referral.state is ReferralState.EXHAUSTED:
        assert all(
            a.state in (AttemptState.DECLINED, AttemptState.EXPIRED, AttemptState.DELIVERY_FAILED)
            for a in attempts
        )
    for attempt in attempts[:-1]:
        assert attempt.state not in OPEN_ATTEMPT and attempt.state is not AttemptState.ACKNOWLEDGED
    assert referral.state not in (ReferralState.REQUESTED, ReferralState.UNMATCHED)


def legal_move(before: ReferralState, after: ReferralState) -> bool:
    if after is before or after in TRANSITIONS[before].values():
        return True
    # An attempt that ends without acceptance offers the next candidate — or exhausts the referral.
    return before in OPEN_OFFER and after is ReferralState.EXHAUSTED


@settings(max_examples=400, deadline=None)
@given(
    candidates=st.integers(1, len(ORGS)),
    max_attempts=st.integers(1, 4),
    severity=st.sampled_from([Severity.S2, Severity.S3, Severity.S4]),
    sequence=st.lists(steps, max_size=25),
)
def test_no_sequence_reaches_an_illegal_state_and_every_referral_ends_acknowledged_exhausted_or_withdrawn(
    candidates: int, max_attempts: int, severity: Severity, sequence: list[Step]
) -> None:
    policy = HandoffPolicy(max_attempts=max_attempts)
    referral = fresh(candidates, severity, policy)
    check_invariants(referral, policy, candidates)
    at = START
    for step in sequence:
        at += timedelta(minutes=7)
        try:
            change = run(referral, step, at=at, policy=policy)
        except LifecycleError:
            continue  # refused with a clear error; nothing changed
        if change is None:
            continue  # a spent timer
        assert legal_move(referral.state, change.referral.state), (
            referral.state,
            step,
            change.referral.state,
        )
        if change.repeated:
            assert change.referral == referral and not change.events
        referral = change.referral
        check_invariants(referral, policy, candidates)

    # Let every remaining deadline pass, as the scheduler would.
    for _ in range(len(ORGS) + 1):
        if referral.state not in OPEN_OFFER:
            break
        at = max(at, referral.deadline_at or at) + timedelta(seconds=1)
        fired = expire(referral, attempt=referral.attempt, at=at, policy=policy)
        assert fired is not None
        referral = fired.referral
        check_invariants(referral, policy, candidates)
    assert delivery_outcome(referral) in ("acknowledged", "exhausted", "withdrawn")
