"""What the referral's unit and integration tests share (imported relatively: `from ..builders`):
the moment and organisations of the lifecycle's unit tests, and the consultation a referral opens for."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.events import Candidate, ConsultationRecorded
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from eventkit.testing import Infra, service_settings
from referral.config import Settings
from referral.lifecycle.domain import HandoffPolicy

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
ORG_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
ORG_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")
ORG_C = uuid.UUID("00000000-0000-4000-8000-00000000000c")
POLICY = HandoffPolicy()


def later(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


def consultation_recorded(
    *,
    recorded_at: datetime,
    case_id: uuid.UUID | None = None,
    severity: Severity = Severity.S3,
    basis: LawfulBasis | None = LawfulBasis.CONSENT,
    channel: Channel = Channel.PHONE,
    topic: Topic = Topic.LONELY,
    municipality_code: str = "131016",
) -> ConsultationRecorded:
    """A consultation of an adult Japanese-speaking woman, short of money and isolated."""
    return ConsultationRecorded(
        case_id=case_id or uuid.uuid4(),
        channel=channel,
        topic=topic,
        municipality_code=municipality_code,
        severity=severity,
        lawful_basis=basis,
        recorded_at=recorded_at,
        need_tags=(IssueTag.MON, IssueTag.ISO),
        age_band=AgeBand.ADULT,
        gender=Gender.FEMALE,
        language="ja",
    )


def candidate(org: uuid.UUID, rank: int, *, channels: tuple[str, ...] = ("webhook",)) -> Candidate:
    """The directory's candidate at `rank`, with an alert address when it wants e-mail."""
    return Candidate(
        organisation_id=org,
        rank=rank,
        tier="municipality",
        reasons=("topic_match",),
        name=f"団体{rank}",
        webhook_url=f"https://partner.example/{rank}",
        email=f"alerts{rank}@partner.example" if "email" in channels else None,
        channels=channels,
    )


def runtime_settings(infra: Infra, database_url: str, **more: Any) -> Settings:
    """referral's settings for a runtime under test: fresh keys, a small pool, a quick shutdown."""
    return Settings(
        **service_settings(
            infra,
            database_url,
            auth_public_key=generate_signing_keypair()[1],
            link_verify_key=generate_signing_keypair()[1],
            encryption_keys=generate_keyring_entry(),
            db_pool_max=2,
            **more,
        )
    )
