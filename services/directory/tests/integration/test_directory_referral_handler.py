"""The ReferralRequested handler on real PostgreSQL, run in one transaction as the consumer does."""

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from contracts.events import ReferralRequested
from contracts.vocabulary import LawfulBasis, Severity, Topic
from directory import repository
from directory.domain import Organisation, OrgType
from directory.handlers import HANDLERS
from eventkit.consumer import Message
from eventkit.envelope import Envelope, new_envelope

pytestmark = pytest.mark.integration

SHINJUKU = "131041"


def request(municipality_code: str = SHINJUKU, topic: Topic = Topic.LONELY) -> ReferralRequested:
    return ReferralRequested(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        topic=topic,
        municipality_code=municipality_code,
        severity=Severity.S3,
        lawful_basis=LawfulBasis.CONSENT,
        requested_at=datetime.now(UTC),
    )


async def deliver(pool: asyncpg.Pool, event: ReferralRequested, envelope: Envelope | None = None) -> None:
    """What EventConsumer does around a handler, minus the broker: one transaction, one call."""
    handler = HANDLERS[type(event)]
    message = Message(envelope or new_envelope(event), event.TOPIC, 0, 0)
    async with pool.acquire() as conn, conn.transaction():
        await handler(conn, event, message)


async def register(pool: asyncpg.Pool, organisation: Organisation) -> None:
    async with pool.acquire() as conn:
        await repository.insert_organisation(conn, organisation=organisation, updated_by="test")


async def outbox_rows(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT topic, message_key, event_type, payload FROM outbox ORDER BY seq")
    return [dict(row) for row in rows]


async def stored_match(pool: asyncpg.Pool, referral_id: uuid.UUID) -> repository.StoredMatch | None:
    async with pool.acquire() as conn:
        return await repository.get_match(conn, referral_id=referral_id)


async def matches_count(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM matches")
    return count


def organisation(name: str, coverage: tuple[str, ...], **fields: Any) -> Organisation:
    return Organisation(
        id=uuid.uuid4(),
        name=name,
        org_type=OrgType.SHAKYO,
        coverage=coverage,
        topics=fields.pop("topics", (Topic.LONELY,)),
        webhook_url=f"http://127.0.0.1:8109/hooks/{name}",
        **fields,
    )


async def test_a_matched_referral_writes_one_match_row_and_one_matched_event(pool: asyncpg.Pool) -> None:
    local = organisation("shinjuku", (SHINJUKU,))
    national = organisation("national", ("JP",), topics=())
    await register(pool, national)
    await register(pool, local)
    event = request()

    await deliver(pool, event)

    stored = await stored_match(pool, event.referral_id)
    assert stored is not None
    assert stored.case_id == event.case_id
    assert stored.organisation_id == local.id
    assert stored.reasons == [f"covers_municipality:{SHINJUKU}", "handles_topic:LONELY"]
    assert [c["organisation_id"] for c in stored.candidates] == [str(local.id), str(national.id)]
    (row,) = await outbox_rows(pool)
    assert row["event_type"] == "referral.matched.v1"
    assert row["topic"] == "directory.matches.v1"
    assert row["message_key"] == str(event.case_id)
    payload = row["payload"]
    assert payload["referral_id"] == str(event.referral_id)
    assert payload["organisation"] == {
        "organisation_id": str(local.id),
        "name": "shinjuku",
        "webhook_url": "http://127.0.0.1:8109/hooks/shinjuku",
    }
    assert [(c["rank"], c["tier"]) for c in payload["candidates"]] == [(1, "municipality"), (2, "national")]
    assert (payload["topic"], payload["municipality_code"], payload["severity"]) == ("LONELY", SHINJUKU, "S3")


async def test_a_redelivered_request_is_answered_only_once(pool: asyncpg.Pool) -> None:
    await register(pool, organisation("shinjuku", (SHINJUKU,)))
    event = request()
    envelope = new_envelope(event)

    await deliver(pool, event, envelope)
    # The same event again, and the same request re-sent under a new event id: the inbox would
    # catch the first, only the matches table catches the second.
    await deliver(pool, event, envelope)
    await deliver(pool, event)

    assert await matches_count(pool) == 1
    assert [row["event_type"] for row in await outbox_rows(pool)] == ["referral.matched.v1"]


async def test_a_referral_nobody_covers_is_announced_as_unmatched(pool: asyncpg.Pool) -> None:
    await register(pool, organisation("osaka", ("27",)))
    await register(pool, organisation("closed", (SHINJUKU,), active=False))
    event = request()

    await deliver(pool, event)

    stored = await stored_match(pool, event.referral_id)
    assert stored is not None and stored.organisation_id is None and stored.candidates == []
    (row,) = await outbox_rows(pool)
    assert row["event_type"] == "referral.unmatched.v1"
    assert row["payload"]["referral_id"] == str(event.referral_id)
    assert row["payload"]["reasons"] == [
        "no_active_organisation_covers_area",
        f"searched_municipality:{SHINJUKU}",
        "searched_topic:LONELY",
    ]


async def test_a_referral_whose_topic_nobody_takes_is_unmatched_with_the_count(pool: asyncpg.Pool) -> None:
    await register(pool, organisation("poverty desk", (SHINJUKU,), topics=(Topic.POVERTY,)))
    event = request(topic=Topic.WOMEN)

    await deliver(pool, event)

    (row,) = await outbox_rows(pool)
    assert row["event_type"] == "referral.unmatched.v1"
    assert row["payload"]["reasons"][0] == "no_eligible_organisation"
    assert "topic_not_handled:1" in row["payload"]["reasons"]


async def test_a_failing_handler_leaves_neither_row_nor_event(pool: asyncpg.Pool) -> None:
    await register(pool, organisation("shinjuku", (SHINJUKU,)))
    event = request()

    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await HANDLERS[ReferralRequested](conn, event, Message(new_envelope(event), event.TOPIC, 0, 0))
            raise RuntimeError("the consumer's transaction rolls back")

    assert await matches_count(pool) == 0
    assert await outbox_rows(pool) == []
