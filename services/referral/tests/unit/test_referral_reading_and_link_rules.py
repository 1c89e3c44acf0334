"""The rules the HTTP edges used to hold: what a link's page offers, how much of a referral a reader
sees, and which HTTP answer each lifecycle refusal gets (through eventkit's one table)."""

import dataclasses
import uuid
from datetime import timedelta

import pytest

from contracts.vocabulary import AgeBand, Gender, LawfulBasis, Severity, Topic
from eventkit.auth import Principal, Role
from eventkit.errors import DomainError
from eventkit.http import status_of
from referral.acknowledgement import page
from referral.acknowledgement.domain import LinkAction, LinkPage, allowed_action
from referral.lifecycle.domain import Attempt, CaseNeeds, Referral, TimelineEntry
from referral.lifecycle.errors import IllegalTransition, InvalidOutcome, NotOffered, Reassigned, Withdrawn
from referral.lifecycle.states import Action, AttemptState, Milestone, ReferralState
from referral.views.domain import actions_for, may_read, narrowed_to, seen

from ..builders import NOW, ORG_A, ORG_B


def attempt(number: int, organisation_id: uuid.UUID, state: AttemptState) -> Attempt:
    return Attempt(number, organisation_id, state, NOW, NOW + timedelta(minutes=30))


def referral(*attempts: Attempt, municipality_code: str = "131016") -> Referral:
    current = attempts[-1] if attempts else None
    return Referral(
        id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        state=ReferralState.OFFERED if current else ReferralState.REQUESTED,
        topic=Topic.WOMEN,
        municipality_code=municipality_code,
        severity=Severity.S3,
        lawful_basis=LawfulBasis.CONSENT,
        needs=CaseNeeds((), AgeBand.ADULT, Gender.FEMALE, "ja"),
        organisation_id=current.organisation_id if current else None,
        attempt=current.number if current else 0,
        reasons=(),
        candidates=(),
        created_at=NOW,
        updated_at=NOW,
        attempts=attempts,
    )


@pytest.mark.parametrize(
    ("state", "used", "expected"),
    [
        (AttemptState.OFFERED, False, LinkAction.ACKNOWLEDGE),
        (AttemptState.NOTIFIED, False, LinkAction.ACKNOWLEDGE),
        (AttemptState.OFFERED, True, LinkAction.MOVED_ON),  # a spent link acts no more
        (AttemptState.ACKNOWLEDGED, False, LinkAction.ACKNOWLEDGED),
        (AttemptState.ACKNOWLEDGED, True, LinkAction.ACKNOWLEDGED),
        (AttemptState.DECLINED, False, LinkAction.MOVED_ON),
        (AttemptState.EXPIRED, False, LinkAction.MOVED_ON),
        (AttemptState.DELIVERY_FAILED, False, LinkAction.MOVED_ON),
        (AttemptState.WITHDRAWN, False, LinkAction.MOVED_ON),
    ],
)
def test_a_links_page_offers_the_button_only_while_its_attempt_is_open_and_the_link_unused(
    state: AttemptState, used: bool, expected: LinkAction
) -> None:
    assert allowed_action(attempt(1, ORG_A, state), used=used) is expected
    shown = page.handoff(LinkPage(referral(attempt(1, ORG_A, state)), attempt(1, ORG_A, state), used))
    assert ('<form method="post">' in shown) is (expected is LinkAction.ACKNOWLEDGE)


def test_the_links_page_shows_codes_escaped_and_the_deadline_in_japan_time() -> None:
    offered = attempt(1, ORG_A, AttemptState.OFFERED)
    shown = page.handoff(LinkPage(referral(offered, municipality_code="<b>13</b>"), offered, False))

    assert "&lt;b&gt;13&lt;/b&gt;" in shown and "<b>13</b>" not in shown
    assert "2025-01-06 18:30 JST" in shown  # 09:00 UTC + 30 minutes, in Japan time
    assert page.as_json(LinkPage(referral(offered), offered, True))["used"] is True


def test_a_partner_reads_only_its_own_attempts_and_nobody_reads_internal_event_ids() -> None:
    first, second = attempt(1, ORG_A, AttemptState.DECLINED), attempt(2, ORG_B, AttemptState.OFFERED)
    held = referral(first, second)
    entry = TimelineEntry(Milestone.MATCHED, NOW, "directory", None, None, None, {"event_id": "x", "rank": 1})
    partner_b = Principal("partner-b", Role.PARTNER, ORG_B)
    operator = Principal("operator-1", Role.OPERATOR)

    record = seen(held, [entry], only=narrowed_to(partner_b))

    assert [a.number for a in record.referral.attempts] == [2]
    assert [dict(e.detail) for e in record.timeline] == [{"rank": 1}]
    assert len(seen(held, [entry], only=narrowed_to(operator)).referral.attempts) == 2
    assert may_read(partner_b, held) and may_read(operator, held)
    assert not may_read(Principal("partner-a", Role.PARTNER, ORG_A), held)  # it has moved on from A


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (IllegalTransition(ReferralState.CLOSED, Action.CONTACT), 409, "illegal_transition"),
        (Reassigned(), 409, "reassigned"),
        (Withdrawn(), 409, "withdrawn"),
        (NotOffered(), 404, "not_found"),
        (
            InvalidOutcome("An outcome code is given when, and only when, the stage is closed."),
            422,
            "validation_failed",
        ),
    ],
)
def test_lifecycle_refusals_carry_a_kind_and_a_code_but_no_http_status(
    error: DomainError, status: int, code: str
) -> None:
    assert not hasattr(error, "status")
    assert (status_of(error), error.code) == (status, code)


def _in(state: ReferralState, *attempts: Attempt) -> Referral:
    return dataclasses.replace(referral(*attempts), state=state)


def test_the_offered_partner_may_answer_the_offer_and_staff_may_only_withdraw() -> None:
    offered = _in(ReferralState.NOTIFIED, attempt(1, ORG_A, AttemptState.NOTIFIED))
    partner_a = Principal("partner-a", Role.PARTNER, ORG_A)

    assert actions_for(partner_a, offered) == (Action.ACKNOWLEDGE, Action.DECLINE)
    assert actions_for(Principal("partner-b", Role.PARTNER, ORG_B), offered) == ()
    assert actions_for(Principal("c", Role.COUNSELLOR), offered) == (Action.WITHDRAW,)
    assert actions_for(Principal("o", Role.OPERATOR), offered) == (Action.WITHDRAW,)


@pytest.mark.parametrize(
    ("state", "steps"),
    [
        (ReferralState.ACKNOWLEDGED, (Action.CONTACT, Action.CLOSE)),  # no 同行支援 before 面談
        (ReferralState.CONTACTED, (Action.ACCOMPANY, Action.CLOSE)),
        (ReferralState.ACCOMPANIED, (Action.ACCOMPANY, Action.CLOSE)),
        (ReferralState.CLOSED, ()),
    ],
)
def test_the_accepting_partner_is_offered_only_the_outcome_steps_the_table_allows_next(
    state: ReferralState, steps: tuple[Action, ...]
) -> None:
    accepted = _in(state, attempt(1, ORG_A, AttemptState.ACKNOWLEDGED))

    assert actions_for(Principal("partner-a", Role.PARTNER, ORG_A), accepted) == steps
    staff = (Action.WITHDRAW,) if state is not ReferralState.CLOSED else ()
    assert actions_for(Principal("c", Role.COUNSELLOR), accepted) == staff


def test_nobody_acts_on_a_withdrawn_referral_and_a_partner_that_declined_has_nothing_left() -> None:
    withdrawn = _in(ReferralState.WITHDRAWN, attempt(1, ORG_A, AttemptState.WITHDRAWN))
    moved_on = _in(
        ReferralState.OFFERED,
        attempt(1, ORG_A, AttemptState.DECLINED),
        attempt(2, ORG_B, AttemptState.OFFERED),
    )

    assert actions_for(Principal("c", Role.COUNSELLOR), withdrawn) == ()
    assert actions_for(Principal("partner-a", Role.PARTNER, ORG_A), withdrawn) == ()
    assert actions_for(Principal("partner-a", Role.PARTNER, ORG_A), moved_on) == ()
