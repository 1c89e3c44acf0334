"""intake's settings, read from INTAKE_* variables."""

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventkit.settings import ServiceSettings, reject_placeholder
from intake.chat.line import DEFAULT_API_BASE_URL
from intake.phone.domain import DEFAULT_FALLBACK_NUMBER, to_e164


def _base_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip().rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_")

    http_port: int = Field(default=8101, ge=1, le=65535)
    encryption_keys: SecretStr = Field(
        description="AES-256 keyring 'k2:<base64>,k1:<base64>'; the first key encrypts"
    )
    twilio_auth_token: SecretStr = Field(description="Verifies X-Twilio-Signature on voice webhooks")
    line_channel_secret: SecretStr = Field(description="Verifies X-Line-Signature on LINE webhooks")
    line_channel_access_token: SecretStr = Field(description="Bearer token for LINE's reply/push API")
    line_api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL, description="LINE's API; a local stand-in in tests and the stack"
    )
    public_base_url: str | None = Field(
        default=None,
        description="The URL the providers call (behind a proxy it differs from what intake sees); "
        "Twilio signs it",
    )
    fallback_number: str = Field(
        default=DEFAULT_FALLBACK_NUMBER, description="Dialled when no menu is active or a desk fails"
    )
    retention_days: int = Field(
        default=365, ge=1, description="Personal data of consultations closed longer ago is purged"
    )
    purge_interval_s: float = Field(default=3600.0, gt=0)

    @field_validator("encryption_keys")
    @classmethod
    def _real_keys(cls, value: SecretStr) -> SecretStr:
        return reject_placeholder(value, "INTAKE_ENCRYPTION_KEYS")

    @field_validator("twilio_auth_token", "line_channel_secret", "line_channel_access_token")
    @classmethod
    def _real_secrets(cls, value: SecretStr) -> SecretStr:
        return reject_placeholder(value, "a channel secret")

    @field_validator("line_api_base_url")
    @classmethod
    def _line_url(cls, value: str) -> str:
        checked = _base_url(value)
        if checked is None:
            raise ValueError("must be set (https://api.line.me in production)")
        return checked

    @field_validator("public_base_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return _base_url(value)

    @field_validator("fallback_number")
    @classmethod
    def _fallback(cls, value: str) -> str:
        return to_e164(value)


class StorageSettings(BaseSettings):
    """What the maintenance commands (rotate-keys, purge) need: no channel secrets, no broker."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    database_url: SecretStr
    encryption_keys: SecretStr
    retention_days: int = Field(default=365, ge=1)
