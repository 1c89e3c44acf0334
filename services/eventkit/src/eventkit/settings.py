"""The settings every service has; each service subclasses it with its own env prefix."""

import base64
import binascii
import re
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from eventkit.kafka import KafkaSecurity

# Values that mean somebody copied an example file without filling it in.
_PLACEHOLDERS = {"", "changeme", "change-me", "change_me", "secret", "password", "todo", "xxx"}
# Below this, a shared secret can be guessed or was typed by hand.
MIN_SECRET_LENGTH = 16


def weakness(value: str) -> str | None:
    """Why a secret or key is too weak to run with, or None. Never repeats the value."""
    text = value.strip()
    if text.lower() in _PLACEHOLDERS or re.search(r"change[-_ ]?me|example|placeholder", text, re.I):
        return "a placeholder"
    if len(text) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    # Each part of a keyring ("kid:key,kid:key") or of a prefixed secret ("whsec_…") on its own.
    for part in re.split(r"[,:;\s]+|^[a-z]+_", text):
        if len(part) < MIN_SECRET_LENGTH:
            continue
        if len(set(part.rstrip("="))) <= 2:
            return "one character repeated"
        try:
            raw = base64.b64decode(
                part.replace("-", "+").replace("_", "/") + "=" * (-len(part) % 4), validate=True
            )
        except (binascii.Error, ValueError):
            continue
        if len(raw) >= 8 and len(set(raw)) <= 1:
            return "an all-zero (or one-byte) key"
    return None


class ServiceSettings(BaseSettings):
    """Read from the environment (`<PREFIX>_DATABASE_URL`, ...); missing secrets stop start-up."""

    database_url: SecretStr = Field(description="postgresql:// URL of this service's own database")
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    # The broker's security: PLAINTEXT on a development machine; SASL_SSL with SCRAM in production.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(default=None, description="CA bundle that signed the broker's cert")
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    # Prometheus' /metrics, on an internal port of its own (never the public one); unset: none.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    auth_public_key: str = Field(description="base64url Ed25519 key that verifies bearer tokens")
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    # The relay's safety net for lost NOTIFYs; most rows are published on the NOTIFY wake-up.
    outbox_poll_interval_s: float = Field(default=0.5, gt=0)
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_base_s: float = Field(default=0.2, gt=0)
    # Records of one partition applied in one transaction when a poll returns a backlog; 1 turns
    # batching off (one transaction per record, as at low load anyway).
    consumer_batch_size: int = Field(default=50, ge=1, le=500)
    shutdown_grace_s: float = Field(default=15.0, gt=0)
    # One switch for every service (TSUNAGU_DEVELOPMENT_MODE=true): the local stack and the tests.
    # Only then are weak secrets accepted and cookies sent without `Secure` (plain http).
    development_mode: bool = Field(
        default=False, validation_alias=AliasChoices("development_mode", "TSUNAGU_DEVELOPMENT_MODE")
    )

    def kafka_security(self) -> KafkaSecurity:
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None,
            ca_file=self.kafka_ssl_cafile,
            cert_file=self.kafka_ssl_certfile,
            key_file=self.kafka_ssl_keyfile,
        )

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgres(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _no_weak_secrets(self) -> Self:
        """Outside development mode, every secret setting must be a real one: a 1-character
        webhook secret, an all-zero key or `change_me` stops start-up, naming the setting."""
        if self.development_mode:
            return self
        weak = []
        for name, value in self:
            if name == "database_url" or not isinstance(value, SecretStr):
                continue
            reason = weakness(value.get_secret_value())
            if reason is not None:
                weak.append(f"{name} is {reason}")
        if weak:
            raise ValueError(
                "weak secrets (set real ones, or TSUNAGU_DEVELOPMENT_MODE=true on a development machine): "
                + "; ".join(weak)
            )
        return self

    @field_validator("auth_public_key")
    @classmethod
    def _not_placeholder(cls, value: str) -> str:
        if value.strip().lower() in _PLACEHOLDERS:
            raise ValueError("is a placeholder; set the real value")
        return value


def reject_placeholder(value: SecretStr, name: str) -> SecretStr:
    """For service-specific secrets: refuse to start with an example value."""
    if value.get_secret_value().strip().lower() in _PLACEHOLDERS:
        raise ValueError(f"{name} is a placeholder; set the real value")
    return value
