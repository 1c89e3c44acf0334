"""directory's wiring: the HANDLERS table agrees with the contract, and settings read DIRECTORY_*."""

import pytest

from contracts import events
from contracts.topics import SUBSCRIPTIONS
from directory.config import Settings
from directory.handlers import HANDLERS


def test_the_handlers_table_reads_exactly_the_topics_the_contract_subscribes_directory_to() -> None:
    assert {event.TOPIC for event in HANDLERS} == {spec.name for spec in SUBSCRIPTIONS["directory"]}


def test_directory_answers_requests_and_follows_the_handoff_lifecycle() -> None:
    assert set(HANDLERS) == {
        events.ReferralRequested,
        events.HandoffOffered,
        events.HandoffAcknowledged,
        events.HandoffDeclined,
        events.HandoffExpired,
        events.HandoffOutcomeRecorded,
        events.ReferralWithdrawn,
        events.ReofferRequested,
    }


def test_settings_come_from_directory_variables_and_serve_on_8103(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIRECTORY_HTTP_PORT", raising=False)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", "postgresql://directory@127.0.0.1:54329/directory")
    monkeypatch.setenv("DIRECTORY_AUTH_PUBLIC_KEY", "a-public-key")

    settings = Settings()

    assert settings.http_port == 8103
    assert settings.capacity_stale_after_s == 24 * 3600
    assert settings.database_url.get_secret_value().endswith("/directory")
