"""directory's settings, read from DIRECTORY_* variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTORY_")

    http_port: int = Field(default=8103, ge=1, le=65535)
