"""notify's wiring: the HANDLERS table reads exactly what the contract subscribes notify to."""

import pytest

from contracts.events import (
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    ReferralEscalated,
    ReferralWithdrawn,
)
from contracts.topics import SUBSCRIPTIONS
from notify.alerts.handlers import HANDLERS

pytestmark = pytest.mark.unit


def test_the_handlers_table_reads_exactly_the_topics_the_contract_subscribes_notify_to() -> None:
    assert {event.TOPIC for event in HANDLERS} == {spec.name for spec in SUBSCRIPTIONS["notify"]}


def test_notify_alerts_offers_and_follows_each_attempts_fate() -> None:
    assert set(HANDLERS) == {
        HandoffOffered,
        HandoffAcknowledged,
        HandoffDeclined,
        HandoffExpired,
        ReferralEscalated,
        ReferralWithdrawn,
    }
