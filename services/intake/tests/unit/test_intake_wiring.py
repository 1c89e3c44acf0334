"""intake's wiring: HANDLERS agree with the contract, settings read INTAKE_* and refuse placeholders."""

import pytest
from pydantic import ValidationError

from contracts.events import HandoffAcknowledged, HandoffOutcomeRecorded, ReferralWithdrawn
from contracts.topics import SUBSCRIPTIONS
from intake.config import Settings, StorageSettings
from intake.handlers import HANDLERS
from intake.sealing import SEALED_COLUMNS

REQUIRED = {
    "INTAKE_DATABASE_URL": "postgresql://intake@127.0.0.1:54329/intake",
    "INTAKE_AUTH_PUBLIC_KEY": "a-public-key",
    "INTAKE_ENCRYPTION_KEYS": "k1:" + "A" * 43,
    "INTAKE_TWILIO_AUTH_TOKEN": "twilio-auth-token",
    "INTAKE_LINE_CHANNEL_SECRET": "line-channel-secret",
    "INTAKE_LINE_CHANNEL_ACCESS_TOKEN": "line-access-token",
}


def test_the_handlers_table_reads_exactly_the_topics_the_contract_subscribes_intake_to() -> None:
    assert {event.TOPIC for event in HANDLERS} == {spec.name for spec in SUBSCRIPTIONS["intake"]}
    assert set(HANDLERS) == {HandoffAcknowledged, ReferralWithdrawn, HandoffOutcomeRecorded}


def test_settings_come_from_intake_variables_with_safe_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "INTAKE_HTTP_PORT",
        "INTAKE_LINE_API_BASE_URL",
        "INTAKE_PUBLIC_BASE_URL",
        "INTAKE_FALLBACK_NUMBER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    settings = Settings()  # type: ignore[call-arg]
    assert settings.http_port == 8101
    assert settings.line_api_base_url == "https://api.line.me"
    assert settings.fallback_number == "+81120494949"
    assert settings.public_base_url is None and settings.retention_days == 365


@pytest.mark.parametrize(
    "name", ["INTAKE_TWILIO_AUTH_TOKEN", "INTAKE_LINE_CHANNEL_SECRET", "INTAKE_ENCRYPTION_KEYS"]
)
def test_a_placeholder_secret_stops_start_up(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    for key, value in REQUIRED.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(name, "changeme")
    with pytest.raises(ValidationError):
        Settings()  # type: ignore[call-arg]


def test_the_maintenance_commands_need_only_the_database_and_the_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in REQUIRED:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("INTAKE_DATABASE_URL", REQUIRED["INTAKE_DATABASE_URL"])
    monkeypatch.setenv("INTAKE_ENCRYPTION_KEYS", REQUIRED["INTAKE_ENCRYPTION_KEYS"])
    assert StorageSettings().retention_days == 365  # type: ignore[call-arg]


def test_every_personal_column_is_known_once_with_a_distinct_context() -> None:
    names = [(c.table, c.column) for c in SEALED_COLUMNS]
    assert len(set(names)) == len(names)
    assert {"caller_enc", "user_enc", "text_enc", "summary_enc", "contact_enc"} <= {
        c.column for c in SEALED_COLUMNS
    }
