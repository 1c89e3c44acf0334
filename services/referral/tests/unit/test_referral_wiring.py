"""referral's wiring: the HANDLERS table agrees with the contract, and settings read REFERRAL_*."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from contracts import events
from contracts.topics import SUBSCRIPTIONS
from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from referral.config import Settings
from referral.lifecycle.domain import HandoffPolicy
from referral.lifecycle.handlers import HANDLERS, bind
from referral.lifecycle.service import Lifecycle

_, LINK_PUBLIC_KEY = generate_signing_keypair()
KEYRING = generate_keyring_entry()


def test_the_handlers_table_reads_exactly_the_topics_the_contract_subscribes_referral_to() -> None:
    assert {event.TOPIC for event in HANDLERS} == {spec.name for spec in SUBSCRIPTIONS["referral"]}


def test_every_fact_about_a_referral_has_a_handler_and_binding_keeps_them_all() -> None:
    assert set(HANDLERS) == {
        events.ConsultationRecorded,
        events.ReferralMatched,
        events.ReferralUnmatched,
        events.HandoffNotified,
        events.HandoffDeliveryFailed,
        events.ReofferMatched,
        events.ReofferUnmatched,
    }
    assert set(bind(Lifecycle(HandoffPolicy()))) == set(HANDLERS)


def test_settings_come_from_referral_variables_with_the_issues_default_deadlines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REFERRAL_HTTP_PORT", raising=False)
    monkeypatch.setenv("REFERRAL_DATABASE_URL", "postgresql://referral@127.0.0.1:54329/referral")
    monkeypatch.setenv("REFERRAL_AUTH_PUBLIC_KEY", "a-public-key")
    monkeypatch.setenv("REFERRAL_LINK_VERIFY_KEY", LINK_PUBLIC_KEY)
    monkeypatch.setenv("REFERRAL_ENCRYPTION_KEYS", KEYRING)
    settings = Settings()
    assert settings.http_port == 8102
    assert settings.database_url.get_secret_value().endswith("/referral")
    policy = settings.handoff_policy()
    assert (policy.deadlines.s4, policy.deadlines.s3) == (timedelta(minutes=10), timedelta(minutes=30))
    assert policy.deadlines.s2_open_time == timedelta(hours=8)
    assert policy.max_attempts == 3


def test_deadlines_and_attempts_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRAL_DEADLINE_S3_S", "120")
    monkeypatch.setenv("REFERRAL_MAX_ATTEMPTS", "5")
    settings = Settings(
        database_url="postgresql://x@h/referral",  # type: ignore[arg-type]
        auth_public_key="k",
        link_verify_key=LINK_PUBLIC_KEY,
        encryption_keys=KEYRING,  # type: ignore[arg-type]
    )
    assert settings.handoff_policy().deadlines.s3 == timedelta(minutes=2)
    assert settings.handoff_policy().max_attempts == 5


@pytest.mark.parametrize("bad", [{"link_verify_key": "not-a-key"}, {"business_day_start": "18:00"}])
def test_a_malformed_link_key_or_business_day_stops_start_up(bad: dict[str, str]) -> None:
    values = {
        "database_url": "postgresql://x@h/referral",
        "auth_public_key": "k",
        "link_verify_key": LINK_PUBLIC_KEY,
        "encryption_keys": KEYRING,
    }
    with pytest.raises(ValidationError):
        Settings(**(values | bad))  # type: ignore[arg-type]
