"""directory's settings, read from DIRECTORY_* variables."""

from pydantic import AwareDatetime, Field
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTORY_")

    http_port: int = Field(default=8103, ge=1, le=65535)
    # Reported capacity older than this counts as unknown, not as available (issue: stale
    # capacity must not attract referrals a partner can no longer take).
    capacity_stale_after_s: int = Field(default=24 * 3600, ge=60)
    # An organisation's entry nobody has confirmed with it for this many days is flagged as stale
    # on the operators' screen (and found by `stale=true`).
    verification_stale_after_days: int = Field(default=180, ge=1, le=3650)
    clock_start: AwareDatetime | None = Field(
        default=None,
        description="Rehearsal only: match as if it were this instant (then advancing in real time), "
        "e.g. 2027-05-03T02:00:00+09:00 to see where Golden Week's night cases would go. "
        "Unset in production.",
    )
