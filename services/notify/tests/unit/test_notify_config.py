from typing import Any

import pytest
from pydantic import ValidationError

from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from notify.config import Settings


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "postgresql://notify@127.0.0.1/notify",
        "auth_public_key": "a-public-key",
        "encryption_keys": generate_keyring_entry(),
        "link_signing_key": generate_signing_keypair()[0],
    }
    return Settings(**(values | overrides))


def test_the_defaults_are_the_documented_ones() -> None:
    chosen = settings()

    assert chosen.http_port == 8104
    assert chosen.public_base_url == "http://127.0.0.1:8104"
    assert chosen.delivery_max_tries == 8
    assert chosen.delivery_backoff_base_s == 1.0
    assert chosen.delivery_backoff_max_s == 300
    assert chosen.webhook_timeout_s == 10
    assert chosen.signature_tolerance_s == 300
    assert chosen.delivery_poll_interval_s == 0.5
    assert chosen.referral_public_url == "http://127.0.0.1:8102"
    assert (chosen.smtp_host, chosen.smtp_port, chosen.smtp_starttls) == ("127.0.0.1", 25, False)


@pytest.mark.parametrize("key", ["changeme", "too-short", generate_signing_keypair()[1] + "x"])
def test_a_placeholder_or_malformed_link_signing_key_stops_start_up(key: str) -> None:
    with pytest.raises(ValidationError):
        settings(link_signing_key=key)


@pytest.mark.parametrize("keys", ["changeme", "", "k1:not-32-bytes"])
def test_placeholder_or_malformed_encryption_keys_stop_start_up(keys: str) -> None:
    with pytest.raises(ValidationError):
        settings(encryption_keys=keys)


def test_a_lease_no_longer_than_the_webhook_timeout_is_refused() -> None:
    with pytest.raises(ValidationError, match="delivery_lease_s"):
        settings(webhook_timeout_s=30, delivery_lease_s=30)


def test_a_backoff_cap_below_its_base_is_refused() -> None:
    with pytest.raises(ValidationError):
        settings(delivery_backoff_base_s=10, delivery_backoff_max_s=5)


def test_the_public_base_url_must_be_http_and_loses_its_trailing_slash() -> None:
    assert settings(public_base_url="https://n.example/").public_base_url == "https://n.example"
    with pytest.raises(ValidationError):
        settings(public_base_url="ftp://n.example")
