"""referral's settings, read from REFERRAL_* variables."""

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from eventkit.links import LinkVerifier
from eventkit.settings import ServiceSettings
from referral.deadlines import DeadlinePolicy
from referral.lifecycle.domain import HandoffPolicy


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_")

    http_port: int = Field(default=8102, ge=1, le=65535)
    link_verify_key: str = Field(
        description="base64url Ed25519 public key that verifies notify's acknowledgement links"
    )
    deadline_s4_s: float = Field(default=600, gt=0, description="S4 (emergency): seconds to acknowledge")
    deadline_s3_s: float = Field(default=1800, gt=0, description="S3 (serious): seconds to acknowledge")
    deadline_s2_open_s: float = Field(
        default=8 * 3600,
        gt=0,
        description="S2 (referral): seconds of the chosen organisation's open time to acknowledge",
    )
    max_attempts: int = Field(
        default=3, ge=1, le=10, description="Organisations alerted before the referral is exhausted"
    )
    scheduler_poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    encryption_keys: SecretStr = Field(
        description="Keyring that seals the notes partners and operators write: kid:base64key[,…]"
    )

    @field_validator("link_verify_key")
    @classmethod
    def _a_real_key(cls, value: str) -> str:
        LinkVerifier(value)  # a malformed key stops start-up, not the first partner's click
        return value

    def handoff_policy(self) -> HandoffPolicy:
        return HandoffPolicy(
            deadlines=DeadlinePolicy(
                s4=timedelta(seconds=self.deadline_s4_s),
                s3=timedelta(seconds=self.deadline_s3_s),
                s2_open_time=timedelta(seconds=self.deadline_s2_open_s),
            ),
            max_attempts=self.max_attempts,
        )
