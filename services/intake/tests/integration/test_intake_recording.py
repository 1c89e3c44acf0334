"""Recording consultations on a real database: encryption at rest, idempotency, the outbox row."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from contracts.vocabulary import Channel, LawfulBasis, Severity, Topic
from eventkit.auth import Principal, Role
from eventkit.crypto import Keyring, generate_keyring_entry
from eventkit.db import create_pool, migrate, service_migrations
from eventkit.errors import ApiError
from intake import service
from intake.domain import Contact, NewConsultation

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
COUNSELLOR = Principal(subject="counsellor-1", role=Role.COUNSELLOR)
KEYRING = Keyring(generate_keyring_entry())

NEW = NewConsultation(
    channel=Channel.PHONE,
    topic=Topic.LONELY,
    municipality_code="131016",
    severity=Severity.S3,
    lawful_basis=LawfulBasis.CONSENT,
    summary="一人暮らしで三日食べていない、と話す",
    contact=Contact(name="試験 花子", phone="090-1234-5678", address="千代田区1-1"),
)


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(fresh_database, service_migrations("intake", MIGRATIONS))
    created = await create_pool(fresh_database, min_size=1, max_size=4)
    try:
        yield created
    finally:
        await created.close()


async def test_a_consultation_and_its_event_are_stored_together(pool: asyncpg.Pool) -> None:
    consultation, created = await service.record_consultation(
        pool, KEYRING, principal=COUNSELLOR, new=NEW, idempotency_key=None
    )
    assert created
    rows = await pool.fetch("SELECT topic, message_key, event_type, payload FROM outbox")
    assert len(rows) == 1
    assert rows[0]["event_type"] == "consultation.recorded.v1"
    assert rows[0]["message_key"] == str(consultation.id)
    assert rows[0]["topic"] == "intake.consultations.v1"
    assert rows[0]["payload"]["severity"] == "S3"


async def test_personal_data_is_encrypted_at_rest_and_absent_from_the_event(pool: asyncpg.Pool) -> None:
    await service.record_consultation(pool, KEYRING, principal=COUNSELLOR, new=NEW, idempotency_key=None)
    stored = json.dumps([dict(r) for r in await pool.fetch("SELECT * FROM consultations")], default=str)
    staged = json.dumps(
        [dict(r) for r in await pool.fetch("SELECT payload, headers FROM outbox")], default=str
    )
    for secret in ("試験 花子", "090-1234-5678", "千代田区1-1", "三日食べていない"):
        assert secret not in stored
        assert secret not in staged


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_consultation(
    pool: asyncpg.Pool,
) -> None:
    first, created_first = await service.record_consultation(
        pool, KEYRING, principal=COUNSELLOR, new=NEW, idempotency_key="retry-1"
    )
    again, created_again = await service.record_consultation(
        pool, KEYRING, principal=COUNSELLOR, new=NEW, idempotency_key="retry-1"
    )
    assert created_first and not created_again
    assert again.id == first.id and again.summary == NEW.summary
    assert await pool.fetchval("SELECT count(*) FROM consultations") == 1
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_reusing_an_idempotency_key_for_a_different_body_is_a_conflict(pool: asyncpg.Pool) -> None:
    await service.record_consultation(pool, KEYRING, principal=COUNSELLOR, new=NEW, idempotency_key="k")
    other = NewConsultation(**{**vars(NEW), "severity": Severity.S1})
    with pytest.raises(ApiError) as caught:
        await service.record_consultation(pool, KEYRING, principal=COUNSELLOR, new=other, idempotency_key="k")
    assert caught.value.status == 409 and caught.value.code == "idempotency_key_reused"


async def test_another_counsellor_cannot_read_the_consultation(pool: asyncpg.Pool) -> None:
    mine, _ = await service.record_consultation(
        pool, KEYRING, principal=COUNSELLOR, new=NEW, idempotency_key=None
    )
    other = Principal(subject="counsellor-2", role=Role.COUNSELLOR)
    with pytest.raises(ApiError) as caught:
        await service.get_consultation(pool, KEYRING, principal=other, consultation_id=mine.id)
    assert caught.value.status == 404
    read = await service.get_consultation(pool, KEYRING, principal=COUNSELLOR, consultation_id=mine.id)
    assert read.contact == NEW.contact
    with pytest.raises(ApiError):
        await service.get_consultation(pool, KEYRING, principal=COUNSELLOR, consultation_id=uuid.uuid4())
