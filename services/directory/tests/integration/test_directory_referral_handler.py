"""directory's event handlers on real PostgreSQL, each run in one transaction as the consumer does."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from contracts.events import (
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    HandoffOutcomeRecorded,
    OfferedOrganisation,
    ReferralRequested,
    ReferralWithdrawn,
)
from contracts.hours import JST, weekly
from contracts.vocabulary import DeclineReason, LawfulBasis, OutcomeStage, Severity, Topic
from directory.context import Context
from directory.handlers import build_handlers
from directory.handoffs import repository as handoffs
from directory.matching import repository as matching
from directory.register import repository
from directory.register.domain import Capability, Capacity, OrgType
from eventkit.consumer import Message
from eventkit.envelope import new_envelope
from eventkit.testing import consume, outbox_rows

from ..builders import PLAIN_NEEDS

SHINJUKU = "131041"
KITA_OSAKA, OSAKA = "271276", "271004"
WEDNESDAY_11 = datetime(2026, 3, 4, 11, 0, tzinfo=JST)
HANDLERS = build_handlers(Context(clock=lambda: WEDNESDAY_11))


def request(
    municipality_code: str = SHINJUKU, topic: Topic = Topic.LONELY, **fields: Any
) -> ReferralRequested:
    return ReferralRequested(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        topic=topic,
        municipality_code=municipality_code,
        severity=fields.pop("severity", Severity.S3),
        lawful_basis=LawfulBasis.CONSENT,
        requested_at=WEDNESDAY_11,
        **(PLAIN_NEEDS | fields),
    )


async def test_a_local_match_writes_one_match_row_and_one_matched_event_with_the_candidates(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    local, _ = await registrar("shinjuku", (SHINJUKU,), topics=(Topic.LONELY,), org={"email": "a@b.example"})
    national, _ = await registrar("national", ("JP",))
    event = request()

    await consume(pool, HANDLERS, event)

    async with pool.acquire() as conn:
        stored = await matching.get_match(conn, referral_id=event.referral_id)
    assert stored is not None and stored.organisation_id == local.id
    assert stored.service_for(local.id) == local.id
    (row,) = await outbox_rows(pool)
    assert (row["event_type"], row["topic"], row["message_key"]) == (
        "referral.matched.v1",
        "directory.matches.v1",
        str(event.case_id),
    )
    payload = row["payload"]
    assert payload["fallback"] is False
    assert [(c["rank"], c["tier"], c["organisation_id"]) for c in payload["candidates"]] == [
        (1, "municipality", str(local.id)),
        (2, "national", str(national.id)),
    ]
    first = payload["candidates"][0]
    assert (first["name"], first["email"], first["channels"], first["open_now"]) == (
        "shinjuku",
        "a@b.example",
        ["webhook", "email"],
        None,  # no hours published: unknown, not open
    )
    assert first["hours"] == {"basis": "unknown", "rules": [], "closes_on_public_holidays": False}
    assert "service_id" not in first  # the event keeps to the contract; the row remembers it


async def test_a_ward_is_matched_to_its_designated_city_through_the_geography(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    city, _ = await registrar("大阪市", (OSAKA,))
    event = request(KITA_OSAKA)

    await consume(pool, HANDLERS, event)

    (row,) = await outbox_rows(pool)
    assert row["payload"]["organisation"]["organisation_id"] == str(city.id)
    assert row["payload"]["candidates"][0]["tier"] == "city"


async def test_no_local_match_falls_back_to_national_and_alerts_operators_in_the_same_transaction(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    national, _ = await registrar("national", ("JP",))
    await registrar("osaka", ("27",))
    event = request()

    await consume(pool, HANDLERS, event)

    matched, alert = await outbox_rows(pool)
    assert matched["event_type"] == "referral.matched.v1" and matched["payload"]["fallback"] is True
    assert matched["payload"]["organisation"]["organisation_id"] == str(national.id)
    assert (alert["event_type"], alert["topic"]) == ("operator.alert_raised.v1", "ops.alerts.v1")
    assert alert["payload"]["kind"] == "no_local_match"
    assert alert["payload"]["referral_id"] == str(event.referral_id)
    # Only services reaching the area are read, so nobody local was even a near miss here.
    assert alert["payload"]["detail"] == [f"searched_municipality:{SHINJUKU}"]


async def test_a_referral_nobody_can_take_is_unmatched_and_alerts_operators(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    await registrar("closed", (SHINJUKU,), org={"active": False})
    await registrar("office", (SHINJUKU,), schedules=(weekly(["SA"], "10:00", "12:00"),))
    event = request()

    await consume(pool, HANDLERS, event)

    unmatched, alert = await outbox_rows(pool)
    assert unmatched["event_type"] == "referral.unmatched.v1"
    assert unmatched["payload"]["reasons"] == [
        "no_eligible_organisation",
        f"searched_municipality:{SHINJUKU}",
        "searched_topic:LONELY",
        "closed:1",
    ]
    assert alert["payload"]["kind"] == "no_match"


async def test_a_redelivered_request_is_answered_only_once(pool: asyncpg.Pool, registrar: Any) -> None:
    await registrar("national", ("JP",))  # a fallback: two events per answer
    event = request()
    envelope = new_envelope(event)

    await consume(pool, HANDLERS, event, envelope)
    await consume(pool, HANDLERS, event, envelope)
    await consume(pool, HANDLERS, event)  # the same request under a new event id

    assert await pool.fetchval("SELECT count(*) FROM matches") == 1
    assert [r["event_type"] for r in await outbox_rows(pool)] == [
        "referral.matched.v1",
        "operator.alert_raised.v1",
    ]


async def test_a_failing_handler_leaves_neither_row_nor_event(pool: asyncpg.Pool, registrar: Any) -> None:
    await registrar("shinjuku", (SHINJUKU,))
    event = request()

    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await HANDLERS[ReferralRequested](conn, event, Message(new_envelope(event), event.TOPIC, 0, 0))
            raise RuntimeError("the consumer's transaction rolls back")

    assert await pool.fetchval("SELECT count(*) FROM matches") == 0
    assert await outbox_rows(pool) == []


# ---- capacity and acknowledgement performance --------------------------------------------------


async def _matched_with_capacity(
    pool: asyncpg.Pool, registrar: Any, available: int = 2
) -> tuple[Any, ReferralRequested]:
    partner, service = await registrar("partner", (SHINJUKU,), capabilities=frozenset({Capability.INTERVIEW}))
    async with pool.acquire() as conn:
        await repository.set_capacity(
            conn,
            service_id=service.id,
            capacity=Capacity(available, 5, WEDNESDAY_11, WEDNESDAY_11),
            updated_by="partner",
        )
    event = request()
    await consume(pool, HANDLERS, event)
    return partner, event


async def _available(pool: asyncpg.Pool, service_id: uuid.UUID) -> int:
    value: int = await pool.fetchval("SELECT capacity_available FROM services WHERE id = $1", service_id)
    return value


def offered(event: ReferralRequested, org_id: uuid.UUID, attempt: int = 1) -> HandoffOffered:
    return HandoffOffered(
        case_id=event.case_id,
        referral_id=event.referral_id,
        attempt=attempt,
        organisation=OfferedOrganisation(organisation_id=org_id),
        topic=event.topic,
        municipality_code=event.municipality_code,
        severity=event.severity,
        deadline_at=WEDNESDAY_11 + timedelta(hours=1),
        offered_at=WEDNESDAY_11,
        need_tags=event.need_tags,
        age_band=event.age_band,
        language=event.language,
    )


def acknowledged(event: ReferralRequested, org_id: uuid.UUID, attempt: int = 1) -> HandoffAcknowledged:
    return HandoffAcknowledged(
        case_id=event.case_id,
        referral_id=event.referral_id,
        attempt=attempt,
        organisation_id=org_id,
        via="link",
        acknowledged_at=WEDNESDAY_11 + timedelta(minutes=10),
    )


async def test_an_accepted_handoff_takes_a_place_once_and_closing_it_gives_the_place_back(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    partner, event = await _matched_with_capacity(pool, registrar)
    ack = acknowledged(event, partner.id)

    await consume(pool, HANDLERS, offered(event, partner.id))
    await consume(pool, HANDLERS, ack)
    await consume(pool, HANDLERS, ack)  # the same event again
    await consume(pool, HANDLERS, acknowledged(event, partner.id))  # the same fact under a new event id
    assert await _available(pool, partner.id) == 1

    closed = HandoffOutcomeRecorded(
        case_id=event.case_id,
        referral_id=event.referral_id,
        organisation_id=partner.id,
        stage=OutcomeStage.CLOSED,
        recorded_at=WEDNESDAY_11 + timedelta(days=2),
    )
    await consume(pool, HANDLERS, closed)
    await consume(pool, HANDLERS, closed)
    assert await _available(pool, partner.id) == 2
    # The automatic changes are in the metadata, and are not fresh reports.
    changes = await pool.fetch(
        "SELECT last_action_type, previous_value, replacement_value FROM change_log WHERE resource_id = $1 "
        "AND resource_type = 'service_capacity' ORDER BY id",
        partner.id,
    )
    assert [tuple(c) for c in changes] == [("handoff_accepted", "2", "1"), ("handoff_closed", "1", "2")]
    assert (
        await pool.fetchval("SELECT capacity_reported_at FROM services WHERE id = $1", partner.id)
        == WEDNESDAY_11
    )


async def test_a_withdrawn_referral_gives_back_the_place_it_held(pool: asyncpg.Pool, registrar: Any) -> None:
    partner, event = await _matched_with_capacity(pool, registrar)
    await consume(pool, HANDLERS, acknowledged(event, partner.id))

    await consume(
        pool,
        HANDLERS,
        ReferralWithdrawn(
            case_id=event.case_id,
            referral_id=event.referral_id,
            reason="resolved_on_call",
            withdrawn_at=WEDNESDAY_11,
        ),
    )

    assert await _available(pool, partner.id) == 2


async def test_a_decline_for_no_capacity_is_a_report_that_the_service_is_full(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    partner, event = await _matched_with_capacity(pool, registrar, available=3)

    await consume(
        pool,
        HANDLERS,
        HandoffDeclined(
            case_id=event.case_id,
            referral_id=event.referral_id,
            attempt=1,
            organisation_id=partner.id,
            reason=DeclineReason.NO_CAPACITY,
            declined_at=WEDNESDAY_11 + timedelta(minutes=5),
        ),
    )

    assert await _available(pool, partner.id) == 0
    # The next serious referral there no longer reaches it, and says why.
    await consume(pool, HANDLERS, request())
    last = (await outbox_rows(pool))[-2:]
    assert last[0]["event_type"] == "referral.unmatched.v1"
    assert "no_capacity:1" in last[0]["payload"]["reasons"]


async def test_acknowledgements_and_expiries_shape_the_organisations_record(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    partner, event = await _matched_with_capacity(pool, registrar)
    await consume(pool, HANDLERS, offered(event, partner.id, attempt=1))
    await consume(pool, HANDLERS, acknowledged(event, partner.id, attempt=1))
    for attempt in (2, 3):
        await consume(pool, HANDLERS, offered(event, partner.id, attempt=attempt))
        expiry = HandoffExpired(
            case_id=event.case_id,
            referral_id=event.referral_id,
            attempt=attempt,
            organisation_id=partner.id,
            deadline_at=WEDNESDAY_11,
            expired_at=WEDNESDAY_11 + timedelta(hours=1),
        )
        await consume(pool, HANDLERS, expiry)
        await consume(pool, HANDLERS, expiry)  # counted once

    async with pool.acquire() as conn:
        record = await handoffs.get_performance(conn, organisation_id=partner.id)

    assert record is not None
    assert (record.offered, record.acknowledged, record.expired) == (3, 1, 2)
    assert record.ack_score == pytest.approx(0.64)  # 1 → 0.8 → 0.64
    assert record.mean_ack_seconds == 600


async def test_an_office_with_an_org_type_of_public_body_is_closed_on_a_holiday_for_serious_cases(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    await registrar(
        "福祉事務所", (SHINJUKU,), org={"org_type": OrgType.WELFARE_OFFICE},
        schedules=(weekly(["MO", "TU", "WE", "TH", "FR"], "08:30", "17:15"),),
    )  # fmt: skip
    holiday = build_handlers(
        Context(clock=lambda: datetime(2026, 5, 4, 2, 0, tzinfo=UTC))
    )  # みどりの日 11:00
    event = request()

    await consume(pool, holiday, event)

    unmatched, _ = await outbox_rows(pool)
    assert "closed:1" in unmatched["payload"]["reasons"]
