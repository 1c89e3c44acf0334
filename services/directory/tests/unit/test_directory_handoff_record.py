"""The pure rules of following a handoff: an organisation's record, and the capacity a decline reports."""

from datetime import UTC, datetime

import pytest

from contracts.vocabulary import DeclineReason, OutcomeStage
from directory.handoffs.domain import (
    Answer,
    full_as_of,
    gives_place_back,
    performance_after,
    reports_full,
)
from directory.matching.domain import Performance
from directory.register.domain import Capacity

AT = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)


def test_a_first_acknowledgement_sets_the_score_and_the_mean_time() -> None:
    record = performance_after(Performance(offered=1), Answer.ACKNOWLEDGED, ack_seconds=300)

    assert (record.offered, record.acknowledged, record.ack_score, record.mean_ack_seconds) == (
        1,
        1,
        1.0,
        300,
    )


def test_an_expiry_lowers_the_score_and_a_decline_leaves_it_alone() -> None:
    known = Performance(offered=3, acknowledged=1, ack_score=1.0, mean_ack_seconds=60)

    expired = performance_after(known, Answer.EXPIRED)
    declined = performance_after(known, Answer.DECLINED)

    assert expired.expired == 1 and expired.ack_score == pytest.approx(0.8)
    assert (declined.declined, declined.ack_score, declined.mean_ack_seconds) == (1, 1.0, 60)


def test_an_answer_to_an_offer_never_seen_counts_the_offer_too() -> None:
    record = performance_after(None, Answer.EXPIRED, offer_seen=False)

    assert (record.offered, record.expired) == (1, 1)
    assert record.offered >= record.acknowledged + record.declined + record.expired


def test_only_a_no_capacity_decline_reports_the_service_full_keeping_the_rest_of_its_report() -> None:
    before = Capacity(3, 5, AT, AT, "beds", "女性専用")

    full = full_as_of(before, AT)

    assert reports_full(DeclineReason.NO_CAPACITY)
    assert not any(reports_full(r) for r in DeclineReason if r is not DeclineReason.NO_CAPACITY)
    assert full == Capacity(0, 5, AT, AT, "beds", "女性専用")
    assert full_as_of(None, AT) == Capacity(0, None, AT, AT, "referrals", None)


def test_only_a_closed_handoff_gives_its_place_back() -> None:
    assert [s for s in OutcomeStage if gives_place_back(s)] == [OutcomeStage.CLOSED]
