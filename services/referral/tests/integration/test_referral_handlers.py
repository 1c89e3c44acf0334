"""referral's handlers on real PostgreSQL, each run in one transaction as the consumer runs it."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from contracts.events import (
    Candidate,
    ConsultationRecorded,
    HandoffDeliveryFailed,
    HandoffNotified,
    MatchedOrganisation,
    ReferralMatched,
    ReferralRequested,
    ReferralUnmatched,
)
from contracts.topics import REFERRALS
from contracts.vocabulary import AgeBand, Channel, Gender, LawfulBasis, Severity, Topic
from eventkit.consumer import PermanentFailure
from eventkit.db import migrate, service_migrations
from eventkit.envelope import new_envelope
from eventkit.testing import consume, outbox_rows
from referral.lifecycle.domain import HandoffPolicy
from referral.lifecycle.handlers import bind
from referral.lifecycle.service import Lifecycle
from referral.main import MIGRATIONS

from ..builders import consultation_recorded

NOW = datetime.now(UTC)
ORG = uuid.uuid4()
BACKUP_ORG = uuid.uuid4()
HANDLERS = bind(Lifecycle(HandoffPolicy()))


def consultation(
    case_id: uuid.UUID | None = None,
    severity: Severity = Severity.S3,
    basis: LawfulBasis | None = LawfulBasis.CONSENT,
) -> ConsultationRecorded:
    return consultation_recorded(
        recorded_at=NOW,
        case_id=case_id,
        severity=severity,
        basis=basis,
        channel=Channel.CHAT,
        topic=Topic.POVERTY,
    )


def match_of(requested: ReferralRequested, org: uuid.UUID = ORG) -> ReferralMatched:
    return ReferralMatched(
        case_id=requested.case_id,
        referral_id=requested.referral_id,
        organisation=MatchedOrganisation(
            organisation_id=org, name="つなぐ支援センター", webhook_url="https://partner.example/hooks"
        ),
        reasons=("municipality_match", "topic_match"),
        candidates=(
            Candidate(organisation_id=org, rank=1, tier="municipality", reasons=("topic_match",)),
            Candidate(
                organisation_id=BACKUP_ORG,
                rank=2,
                tier="prefecture",
                reasons=("topic_match",),
                webhook_url="https://backup.example/hooks",
            ),
        ),
        topic=requested.topic,
        municipality_code=requested.municipality_code,
        severity=requested.severity,
        matched_at=NOW + timedelta(seconds=1),
    )


def notification_of(requested: ReferralRequested, org: uuid.UUID = ORG) -> HandoffNotified:
    return HandoffNotified(
        case_id=requested.case_id,
        referral_id=requested.referral_id,
        organisation_id=org,
        attempt=1,
        delivery_id=f"{requested.referral_id}:{org}:1",
        notified_at=NOW + timedelta(seconds=2),
    )


async def referral_rows(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    return [dict(r) for r in await pool.fetch("SELECT * FROM referrals ORDER BY created_at")]


async def timeline_of(pool: asyncpg.Pool, referral_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT state, actor, detail FROM referral_timeline WHERE referral_id = $1 ORDER BY id",
        referral_id,
    )
    return [dict(r) for r in rows]


async def open_one(pool: asyncpg.Pool) -> ReferralRequested:
    await consume(pool, HANDLERS, consultation())
    [row] = await outbox_rows(pool)
    return ReferralRequested.model_validate(row["payload"])


async def test_a_fresh_database_migrates_cleanly_and_a_second_run_has_nothing_to_do(
    fresh_database: str,
) -> None:
    applied = await migrate(fresh_database, service_migrations("referral", MIGRATIONS))
    # The shared tables come first, then referral's own, in number order.
    assert applied[0] == "eventkit/0001_outbox_inbox.sql"
    assert "referral/0001_create_referrals.sql" in applied
    assert applied == sorted(applied, key=lambda name: (not name.startswith("eventkit/"), name))
    assert await migrate(fresh_database, service_migrations("referral", MIGRATIONS)) == []


async def test_a_serious_case_with_a_lawful_basis_opens_one_referral_and_asks_for_a_match(
    pool: asyncpg.Pool,
) -> None:
    event = consultation(severity=Severity.S4, basis=LawfulBasis.VITAL_INTEREST_27_1_2)
    envelope = new_envelope(event)
    await consume(pool, HANDLERS, event, envelope)

    [referral] = await referral_rows(pool)
    assert referral["case_id"] == event.case_id
    assert referral["state"] == "requested"
    assert (referral["organisation_id"], referral["attempt"]) == (None, 0)
    assert (referral["topic"], referral["municipality_code"], referral["severity"]) == (
        "POVERTY",
        "131016",
        "S4",
    )
    assert referral["lawful_basis"] == "VITAL_INTEREST_27_1_2"

    [row] = await outbox_rows(pool)
    assert row["event_type"] == "referral.requested.v2"
    assert row["topic"] == REFERRALS.name
    assert row["message_key"] == str(event.case_id)
    # Codes and ids only: exactly the contract's fields, so nothing personal can ride along.
    assert set(row["payload"]) == set(ReferralRequested.model_fields)
    requested = ReferralRequested.model_validate(row["payload"])
    assert requested.referral_id == referral["id"]
    assert requested.lawful_basis is LawfulBasis.VITAL_INTEREST_27_1_2

    assert await timeline_of(pool, referral["id"]) == [
        {"state": "requested", "actor": "referral", "detail": {"event_id": str(envelope.event_id)}}
    ]


@pytest.mark.parametrize(
    ("severity", "basis"),
    [
        (Severity.S0, LawfulBasis.CONSENT),
        (Severity.S1, LawfulBasis.CONSENT),
        (Severity.S2, LawfulBasis.VITAL_INTEREST_27_1_2),
        (Severity.S2, None),
        (Severity.S3, None),
        (Severity.S4, None),
    ],
)
async def test_a_case_that_is_not_serious_or_not_shareable_opens_nothing(
    pool: asyncpg.Pool, severity: Severity, basis: LawfulBasis | None
) -> None:
    await consume(pool, HANDLERS, consultation(severity=severity, basis=basis))
    assert await referral_rows(pool) == []
    assert await outbox_rows(pool) == []


async def test_a_referral_level_case_with_consent_opens_a_referral(pool: asyncpg.Pool) -> None:
    await consume(pool, HANDLERS, consultation(severity=Severity.S2, basis=LawfulBasis.CONSENT))
    [referral] = await referral_rows(pool)
    assert (referral["severity"], referral["state"]) == ("S2", "requested")


async def test_a_case_recorded_twice_still_has_one_referral_and_one_request(pool: asyncpg.Pool) -> None:
    case_id = uuid.uuid4()
    await consume(pool, HANDLERS, consultation(case_id))
    await consume(pool, HANDLERS, consultation(case_id, severity=Severity.S4))
    assert len(await referral_rows(pool)) == 1
    assert len(await outbox_rows(pool)) == 1
    assert await pool.fetchval("SELECT count(*) FROM referral_timeline") == 1


async def test_a_match_offers_attempt_one_with_a_deadline_timer_and_a_notification_makes_it_notified(
    pool: asyncpg.Pool,
) -> None:
    requested = await open_one(pool)
    await consume(pool, HANDLERS, match_of(requested))
    [referral] = await referral_rows(pool)
    assert (referral["state"], referral["organisation_id"], referral["attempt"]) == ("offered", ORG, 1)
    assert referral["reasons"] == ["municipality_match", "topic_match"]
    assert [c["organisation_id"] for c in referral["candidates"]] == [str(ORG), str(BACKUP_ORG)]
    # The chosen organisation's webhook, which an older directory sent only with the match.
    assert referral["candidates"][0]["webhook_url"] == "https://partner.example/hooks"
    assert referral["deadline_at"] is not None

    [_, offered] = await outbox_rows(pool)
    assert offered["event_type"] == "handoff.offered.v2"
    assert offered["topic"] == REFERRALS.name and offered["message_key"] == str(requested.case_id)
    assert offered["payload"]["organisation"]["organisation_id"] == str(ORG)
    assert offered["payload"]["organisation"]["webhook_url"] == "https://partner.example/hooks"
    [timer] = await pool.fetch("SELECT attempt, due_at, fired_at FROM handoff_timers")
    assert (timer["attempt"], timer["fired_at"]) == (1, None)
    assert timer["due_at"] == referral["deadline_at"]

    await consume(pool, HANDLERS, notification_of(requested))
    [referral] = await referral_rows(pool)
    assert (referral["state"], referral["organisation_id"], referral["attempt"]) == ("notified", ORG, 1)

    timeline = await timeline_of(pool, requested.referral_id)
    assert [(t["state"], t["actor"]) for t in timeline] == [
        ("requested", "referral"),
        ("matched", "directory"),
        ("offered", "referral"),
        ("notified", "notify"),
    ]
    assert timeline[3]["detail"]["channel"] == "webhook"


async def test_a_replayed_match_is_recorded_late_and_offers_nothing_more(pool: asyncpg.Pool) -> None:
    requested = await open_one(pool)
    await consume(pool, HANDLERS, match_of(requested))
    await consume(pool, HANDLERS, match_of(requested, org=BACKUP_ORG))
    [referral] = await referral_rows(pool)
    assert (referral["state"], referral["organisation_id"]) == ("offered", ORG)
    assert len(await outbox_rows(pool)) == 2
    timeline = await timeline_of(pool, requested.referral_id)
    assert timeline[-1]["state"] == "matched" and timeline[-1]["detail"]["late"] is True


async def test_no_match_makes_the_referral_unmatched_with_the_directorys_reasons(pool: asyncpg.Pool) -> None:
    requested = await open_one(pool)
    await consume(
        pool,
        HANDLERS,
        ReferralUnmatched(
            case_id=requested.case_id,
            referral_id=requested.referral_id,
            reasons=("no_organisation_for_topic",),
            unmatched_at=NOW + timedelta(seconds=1),
        ),
    )
    [referral] = await referral_rows(pool)
    assert (referral["state"], referral["reasons"]) == ("unmatched", ["no_organisation_for_topic"])


async def test_when_no_channel_reached_the_partner_the_next_candidate_is_offered_at_once(
    pool: asyncpg.Pool,
) -> None:
    requested = await open_one(pool)
    await consume(pool, HANDLERS, match_of(requested))
    await consume(
        pool,
        HANDLERS,
        HandoffDeliveryFailed(
            case_id=requested.case_id,
            referral_id=requested.referral_id,
            organisation_id=ORG,
            attempt=1,
            delivery_id=f"{requested.referral_id}:{ORG}:1",
            reason="http_503",
            failed_at=NOW + timedelta(seconds=3),
        ),
    )
    [referral] = await referral_rows(pool)
    assert (referral["state"], referral["organisation_id"], referral["attempt"]) == ("offered", BACKUP_ORG, 2)
    types = [row["event_type"] for row in await outbox_rows(pool)]
    assert types[-2:] == ["referral.escalated.v1", "handoff.offered.v2"]
    timeline = await timeline_of(pool, requested.referral_id)
    assert [t["state"] for t in timeline][-3:] == ["delivery_failed", "escalated", "offered"]
    assert timeline[-3]["detail"]["reason"] == "http_503"


async def test_a_fact_about_an_unknown_referral_is_a_permanent_failure(pool: asyncpg.Pool) -> None:
    stranger = ReferralRequested(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        topic=Topic.LONELY,
        municipality_code="131016",
        severity=Severity.S3,
        lawful_basis=LawfulBasis.CONSENT,
        requested_at=NOW,
        need_tags=(),
        age_band=AgeBand.UNKNOWN,
        gender=Gender.UNKNOWN,
        language="ja",
    )
    with pytest.raises(PermanentFailure) as raised:
        await consume(pool, HANDLERS, match_of(stranger))
    assert raised.value.reason == "unknown_referral"
    assert await pool.fetchval("SELECT count(*) FROM referral_timeline") == 0


async def test_a_fact_that_contradicts_the_state_is_a_permanent_failure_and_changes_nothing(
    pool: asyncpg.Pool,
) -> None:
    requested = await open_one(pool)
    await consume(pool, HANDLERS, match_of(requested))
    unmatched = ReferralUnmatched(
        case_id=requested.case_id,
        referral_id=requested.referral_id,
        reasons=("no_organisation_for_topic",),
        unmatched_at=NOW + timedelta(seconds=2),
    )
    with pytest.raises(PermanentFailure) as raised:
        await consume(pool, HANDLERS, unmatched)
    assert raised.value.reason == "illegal_transition:offered->unmatched"
    [referral] = await referral_rows(pool)
    assert referral["state"] == "offered"
    assert len(await timeline_of(pool, requested.referral_id)) == 3


async def test_a_notification_for_an_attempt_never_offered_is_a_permanent_failure(pool: asyncpg.Pool) -> None:
    requested = await open_one(pool)
    with pytest.raises(PermanentFailure) as raised:
        await consume(pool, HANDLERS, notification_of(requested))
    assert raised.value.reason == "illegal_transition:requested->notified:attempt_ahead"


async def test_a_fact_filed_under_another_case_is_a_permanent_failure(pool: asyncpg.Pool) -> None:
    requested = await open_one(pool)
    misfiled = match_of(requested).model_copy(update={"case_id": uuid.uuid4()})
    with pytest.raises(PermanentFailure) as raised:
        await consume(pool, HANDLERS, misfiled)
    assert raised.value.reason == "case_mismatch"
