"""directory's settings, read from DIRECTORY_* variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTORY_")

    http_port: int = Field(default=8103, ge=1, le=65535)
    # Reported capacity older than this counts as unknown, not as available (issue: stale
    # capacity must not attract referrals a partner can no longer take).
    capacity_stale_after_s: int = Field(default=24 * 3600, ge=60)
