"""notify's settings, read from NOTIFY_* variables."""

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from eventkit.crypto import Keyring
from eventkit.settings import ServiceSettings, reject_placeholder


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_")

    http_port: int = Field(default=8104, ge=1, le=65535)
    encryption_keys: SecretStr = Field(
        description="AES-256 keyring 'k2:<base64>,k1:<base64>' sealing the partners' webhook secrets"
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8104",
        description="How partners reach this service; the webhook's links point here.",
    )
    delivery_max_tries: int = Field(default=8, ge=1, description="POSTs before a delivery fails for good")
    delivery_backoff_base_s: float = Field(default=1.0, gt=0)
    delivery_backoff_max_s: float = Field(default=300.0, gt=0)
    delivery_lease_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed delivery is a sender's; after it, another sender retries it.",
    )
    delivery_poll_interval_s: float = Field(default=0.5, gt=0)
    delivery_batch_size: int = Field(default=50, ge=1, le=500)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    signature_tolerance_s: int = Field(
        default=300, ge=1, description="Partners reject a Tsunagu-Timestamp older than this."
    )
    secret_rotation_grace_s: int = Field(
        default=86_400,
        ge=0,
        description="After a rotation the previous secret also signs for this long.",
    )

    @field_validator("encryption_keys")
    @classmethod
    def _real_keys(cls, value: SecretStr) -> SecretStr:
        reject_placeholder(value, "NOTIFY_ENCRYPTION_KEYS")
        Keyring(value.get_secret_value())  # a malformed keyring stops start-up, not the first POST
        return value

    @field_validator("public_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _coherent_delivery_timing(self) -> Self:
        if self.delivery_backoff_max_s < self.delivery_backoff_base_s:
            raise ValueError("delivery_backoff_max_s must be at least delivery_backoff_base_s")
        # A lease shorter than a POST would let a second sender start while the first still waits.
        if self.delivery_lease_s <= self.webhook_timeout_s:
            raise ValueError("delivery_lease_s must be longer than webhook_timeout_s")
        return self
