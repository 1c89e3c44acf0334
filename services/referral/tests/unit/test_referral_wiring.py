"""referral's wiring: the HANDLERS table agrees with the contract, and settings read REFERRAL_*."""

import pytest

from contracts.events import (
    ConsultationRecorded,
    HandoffDeliveryFailed,
    HandoffNotified,
    ReferralMatched,
    ReferralUnmatched,
)
from contracts.topics import SUBSCRIPTIONS
from referral.config import Settings
from referral.handlers import HANDLERS

pytestmark = pytest.mark.unit


def test_the_handlers_table_reads_exactly_the_topics_the_contract_subscribes_referral_to() -> None:
    assert {event.TOPIC for event in HANDLERS} == {spec.name for spec in SUBSCRIPTIONS["referral"]}


def test_every_fact_about_a_referral_has_a_handler() -> None:
    assert set(HANDLERS) == {
        ConsultationRecorded,
        ReferralMatched,
        ReferralUnmatched,
        HandoffNotified,
        HandoffDeliveryFailed,
    }


def test_settings_come_from_referral_variables_and_serve_on_8102(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REFERRAL_HTTP_PORT", raising=False)
    monkeypatch.setenv("REFERRAL_DATABASE_URL", "postgresql://referral@127.0.0.1:54329/referral")
    monkeypatch.setenv("REFERRAL_AUTH_PUBLIC_KEY", "a-public-key")
    settings = Settings()
    assert settings.http_port == 8102
    assert settings.database_url.get_secret_value().endswith("/referral")
