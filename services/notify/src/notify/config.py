"""notify's settings, read from NOTIFY_* variables."""

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from eventkit.auth import _unb64
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
    link_signing_key: SecretStr = Field(
        description="base64url Ed25519 private key that signs acknowledgement links (referral verifies)"
    )
    referral_public_url: str = Field(
        default="http://127.0.0.1:8102",
        description="How partners reach referral: acknowledgement links and the portal's actions point here.",
    )
    link_valid_after_deadline_s: int = Field(
        default=86_400,
        ge=0,
        description="A link still answers (e.g. 'reassigned') this long after the attempt's deadline.",
    )
    smtp_host: str = Field(default="127.0.0.1", description="Where e-mail alerts are handed over")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = Field(default="Tsunagu <noreply@tsunagu.invalid>", description="The alerts' From")
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
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

    dashboard_url: str = Field(
        default="http://127.0.0.1:8100",
        description="The operators' dashboard (web); pages link to its /ops/paging to acknowledge.",
    )
    paging_repeat_s: int = Field(
        default=300, ge=1, description="A page not acknowledged pages the people on call again this often."
    )
    paging_s4_ack_limit_s: int = Field(
        default=900,
        ge=1,
        description="An S4 referral no organisation has accepted this long after its first offer pages.",
    )
    paging_max_alert_age_s: int = Field(
        default=21_600, ge=60, description="An operator alert older than this on arrival is not paged."
    )
    paging_poll_interval_s: float = Field(default=2.0, gt=0)
    pager_webhook_url: str | None = Field(
        default=None,
        description="A PagerDuty Events API v2 endpoint (.../v2/enqueue); none: pages go by e-mail only.",
    )
    pager_routing_key: SecretStr | None = Field(
        default=None, description="The pager service's integration (routing) key."
    )

    @field_validator("encryption_keys")
    @classmethod
    def _real_keys(cls, value: SecretStr) -> SecretStr:
        reject_placeholder(value, "NOTIFY_ENCRYPTION_KEYS")
        Keyring(value.get_secret_value())  # a malformed keyring stops start-up, not the first POST
        return value

    @field_validator("link_signing_key")
    @classmethod
    def _a_signing_key(cls, value: SecretStr) -> SecretStr:
        reject_placeholder(value, "NOTIFY_LINK_SIGNING_KEY")
        try:
            raw = _unb64(value.get_secret_value())
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ValueError("must be a base64url Ed25519 private key (32 bytes)")
        return value

    @field_validator("public_base_url", "referral_public_url", "dashboard_url")
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
        if self.delivery_lease_s <= self.smtp_timeout_s + 5:
            raise ValueError("delivery_lease_s must be longer than smtp_timeout_s + 5")
        if (self.pager_webhook_url is None) != (self.pager_routing_key is None):
            raise ValueError("pager_webhook_url and pager_routing_key go together")
        return self
