"""intake's settings, read from INTAKE_* variables."""

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings, reject_placeholder


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_")

    http_port: int = Field(default=8101, ge=1, le=65535)
    encryption_keys: SecretStr = Field(
        description="AES-256 keyring 'k2:<base64>,k1:<base64>'; the first key encrypts"
    )

    @field_validator("encryption_keys")
    @classmethod
    def _real_keys(cls, value: SecretStr) -> SecretStr:
        return reject_placeholder(value, "INTAKE_ENCRYPTION_KEYS")
