"""Every matching input of a consultation arrives unchanged in the request for a match and in each
offer: through the handler, the referrals table and the outbox, on real PostgreSQL.

This is the hop that once dropped the needs: the contract's defaults hid it, the dry run used
them, and the real match ranked a 16-year-old as anybody. Random consultations, every field."""

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.events import (
    Candidate,
    ConsultationRecorded,
    HandoffOffered,
    MatchedOrganisation,
    ReferralMatched,
    ReferralRequested,
)
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from eventkit.db import create_pool
from eventkit.testing import consume
from referral.lifecycle.domain import HandoffPolicy
from referral.lifecycle.handlers import bind
from referral.lifecycle.service import Lifecycle

HANDLERS = bind(Lifecycle(HandoffPolicy()))
MATCHING_INPUTS = ("topic", "municipality_code", "severity", "need_tags", "age_band", "gender", "language")

consultations = st.builds(
    ConsultationRecorded,
    case_id=st.uuids(version=4),
    channel=st.sampled_from(Channel),
    topic=st.sampled_from(Topic),
    municipality_code=st.sampled_from(["131041", "271276", "221384", "473821", "011002"]),
    # Only cases that open a referral: S3/S4 with any basis, S2 with consent.
    severity=st.sampled_from([Severity.S3, Severity.S4]),
    lawful_basis=st.sampled_from(LawfulBasis),
    recorded_at=st.just(datetime(2026, 5, 3, 2, 0, tzinfo=UTC)),
    need_tags=st.lists(st.sampled_from(IssueTag), max_size=5, unique=True).map(tuple),
    age_band=st.sampled_from(AgeBand),
    gender=st.sampled_from(Gender),
    language=st.sampled_from(["ja", "en", "vi", "zh", "ko", "pt", "es", "tl", "ne"]),
)


async def _payload(pool: asyncpg.Pool, case_id: uuid.UUID, event_type: str) -> dict[str, object]:
    payload: dict[str, object] = await pool.fetchval(
        "SELECT payload FROM outbox WHERE message_key = $1 AND event_type = $2", str(case_id), event_type
    )
    return payload


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(consultation=consultations)
def test_every_matching_input_arrives_unchanged_in_the_request_and_the_offer(
    service_db: str, consultation: ConsultationRecorded
) -> None:
    async def example() -> None:
        pool = await create_pool(service_db, min_size=1, max_size=1)
        try:
            # Examples share the database, and shrinking repeats case ids: start empty.
            await pool.execute("TRUNCATE referrals, outbox, inbox CASCADE")
            await consume(pool, HANDLERS, consultation)
            requested = ReferralRequested.model_validate(
                await _payload(pool, consultation.case_id, ReferralRequested.TYPE)
            )
            org = uuid.uuid4()
            await consume(
                pool,
                HANDLERS,
                ReferralMatched(
                    case_id=consultation.case_id,
                    referral_id=requested.referral_id,
                    organisation=MatchedOrganisation(organisation_id=org, name="団体"),
                    reasons=(),
                    candidates=(
                        Candidate(
                            organisation_id=org,
                            rank=1,
                            tier="municipality",
                            reasons=(),
                            channels=("portal",),
                        ),
                    ),
                    topic=requested.topic,
                    municipality_code=requested.municipality_code,
                    severity=requested.severity,
                    matched_at=datetime.now(UTC),
                ),
            )
            offered = HandoffOffered.model_validate(
                await _payload(pool, consultation.case_id, HandoffOffered.TYPE)
            )
        finally:
            await pool.close()

        for name in MATCHING_INPUTS:
            assert getattr(requested, name) == getattr(consultation, name), name
        for name in ("topic", "municipality_code", "severity", "need_tags", "age_band", "language"):
            assert getattr(offered, name) == getattr(consultation, name), name

    asyncio.run(example())
