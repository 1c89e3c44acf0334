"""`python -m eventkit.topics`: create every topic of the contracts, idempotently, with the
deployment's replication and retention (KAFKA_* settings; the defaults suit one local broker)."""

import asyncio
import sys
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import ALL_TOPICS
from eventkit.kafka import DAY_MS, KafkaSecurity, TopicPolicy, ensure_topics


class TopicSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_")

    bootstrap_servers: str = "127.0.0.1:19092"
    replication_factor: int = Field(default=1, ge=1, description="3 in production")
    min_insync_replicas: int = Field(default=1, ge=1, description="2 in production")
    retention_hours: int = Field(default=7 * 24, ge=1)
    dead_letter_retention_days: int = Field(
        default=365, ge=1, description="dead letters wait for a person to replay them"
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None

    def policy(self) -> TopicPolicy:
        return TopicPolicy(
            replication_factor=self.replication_factor,
            min_insync_replicas=self.min_insync_replicas,
            retention_ms=self.retention_hours * 3600 * 1000,
            dead_letter_retention_ms=self.dead_letter_retention_days * DAY_MS,
        )

    def security(self) -> KafkaSecurity:
        return KafkaSecurity(
            protocol=self.security_protocol,
            sasl_mechanism=self.sasl_mechanism,
            username=self.sasl_username,
            password=self.sasl_password.get_secret_value() if self.sasl_password else None,
            ca_file=self.ssl_cafile,
        )


def main() -> int:
    settings = TopicSettings()
    servers = settings.bootstrap_servers
    created = asyncio.run(
        ensure_topics(servers, ALL_TOPICS, policy=settings.policy(), security=settings.security())
    )
    for name in created:
        print(f"created topic {name}", file=sys.stderr)
    print(f"{len(ALL_TOPICS)} topics present on {servers} ({len(created)} new)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
