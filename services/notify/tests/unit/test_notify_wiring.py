"""notify's wiring: the HANDLERS table reads exactly what the contract subscribes notify to."""

from contracts import events
from contracts.topics import SUBSCRIPTIONS
from notify.alerts.handlers import HANDLERS
from notify.handlers import HANDLERS as ALL_HANDLERS


def test_the_handlers_table_reads_exactly_the_topics_the_contract_subscribes_notify_to() -> None:
    assert {event.TOPIC for event in ALL_HANDLERS} == {spec.name for spec in SUBSCRIPTIONS["notify"]}


def test_notify_pages_on_operator_alerts_besides_alerting_partners() -> None:
    # Acknowledged, withdrawn or handled elsewhere: the referral's page is resolved as well.
    assert set(ALL_HANDLERS) == set(HANDLERS) | {events.OperatorAlertRaised, events.ReferralHandledElsewhere}


def test_notify_alerts_offers_and_follows_each_attempts_fate_and_the_steps_after_acceptance() -> None:
    assert set(HANDLERS) == {
        events.HandoffOffered,
        events.HandoffAcknowledged,
        events.HandoffDeclined,
        events.HandoffExpired,
        events.HandoffOutcomeRecorded,
        events.ReferralEscalated,
        events.ReferralWithdrawn,
    }
