"""referral's settings, read from REFERRAL_* variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_")

    http_port: int = Field(default=8102, ge=1, le=65535)
