"""directory's use cases: keep the register of organisations, and answer referral requests."""

import logging
import uuid
from datetime import UTC, datetime

import asyncpg

from contracts.events import ReferralMatched, ReferralRequested, ReferralUnmatched
from contracts.vocabulary import Topic
from directory import repository
from directory.domain import (
    MatchResult,
    Organisation,
    OrganisationRecord,
    ReferralNeeds,
    match,
    outcome_event,
)
from eventkit import outbox, telemetry
from eventkit.auth import Principal, Role
from eventkit.errors import not_found

log = logging.getLogger(__name__)


async def put_organisation(
    pool: asyncpg.Pool, *, principal: Principal, organisation: Organisation
) -> tuple[OrganisationRecord, bool]:
    """Create the organisation under its id, or replace it; returns (it, created?)."""
    telemetry.tag(organisation_id=organisation.id)
    async with pool.acquire() as conn, conn.transaction():
        # Insert first: ON CONFLICT waits for a concurrent insert of the same id, so two racing
        # PUTs end as one create and one update instead of a unique-violation error.
        created = await repository.insert_organisation(
            conn, organisation=organisation, updated_by=principal.subject
        )
        if created is not None:
            return created, True
        updated = await repository.update_organisation(
            conn, organisation=organisation, updated_by=principal.subject
        )
    assert updated is not None, "organisations are never deleted, only deactivated"
    return updated, False


async def create_organisation(
    pool: asyncpg.Pool, *, principal: Principal, organisation: Organisation
) -> OrganisationRecord:
    record, created = await put_organisation(pool, principal=principal, organisation=organisation)
    assert created, "a freshly generated id cannot collide"
    return record


async def get_organisation(
    pool: asyncpg.Pool, *, principal: Principal, organisation_id: uuid.UUID
) -> OrganisationRecord:
    telemetry.tag(organisation_id=organisation_id)
    # A partner reads only its own entry; any other id answers 404 so that ids cannot be probed.
    if principal.role is Role.PARTNER and not principal.is_partner_of(organisation_id):
        raise not_found("organisation")
    async with pool.acquire() as conn:
        record = await repository.get_organisation(conn, organisation_id=organisation_id)
    if record is None:
        raise not_found("organisation")
    return record


async def list_organisations(
    pool: asyncpg.Pool,
    *,
    municipality_code: str | None,
    topic: Topic | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> list[OrganisationRecord]:
    async with pool.acquire() as conn:
        return await repository.list_organisations(
            conn,
            municipality_code=municipality_code,
            topic=topic,
            active=active,
            limit=limit,
            offset=offset,
        )


async def deactivate_organisation(
    pool: asyncpg.Pool, *, principal: Principal, organisation_id: uuid.UUID
) -> None:
    """Soft delete: past matches keep pointing at it, new referrals no longer reach it."""
    telemetry.tag(organisation_id=organisation_id)
    async with pool.acquire() as conn:
        found = await repository.deactivate_organisation(
            conn, organisation_id=organisation_id, updated_by=principal.subject
        )
    if not found:
        raise not_found("organisation")


async def dry_run(pool: asyncpg.Pool, *, needs: ReferralNeeds) -> MatchResult:
    """What a referral with these needs would be matched to now; nothing is stored or sent."""
    async with pool.acquire() as conn:
        # Inactive ones too, so that the answer explains why a familiar organisation is missing.
        organisations = await repository.find_organisations_covering(
            conn, municipality_code=needs.municipality_code, include_inactive=True
        )
    return match(needs, organisations)


async def match_referral(
    conn: asyncpg.Connection, request: ReferralRequested
) -> ReferralMatched | ReferralUnmatched | None:
    """Match a referral inside the caller's transaction: the row and its event, or nothing.

    Returns the staged event, or None when this referral was answered before: the request was
    redelivered (possibly under a new event id) and must not produce a second answer.
    """
    needs = ReferralNeeds(
        topic=request.topic, municipality_code=request.municipality_code, severity=request.severity
    )
    organisations = await repository.find_organisations_covering(
        conn, municipality_code=request.municipality_code
    )
    result = match(needs, organisations)
    outcome = outcome_event(request, result, at=datetime.now(UTC))
    chosen = result.chosen
    if isinstance(outcome, ReferralMatched):
        reasons, at = outcome.reasons, outcome.matched_at
        candidates = [c.model_dump(mode="json") for c in outcome.candidates]
    else:
        reasons, at, candidates = outcome.reasons, outcome.unmatched_at, []
    first_answer = await repository.insert_match(
        conn,
        referral_id=request.referral_id,
        case_id=request.case_id,
        organisation_id=chosen.organisation.id if chosen else None,
        reasons=list(reasons),
        candidates=candidates,
        matched_at=at,
        trace_id=telemetry.current_trace_id(),
    )
    if not first_answer:
        log.info("referral %s was answered before; not answering again", request.referral_id)
        return None
    await outbox.append(conn, outcome)
    if chosen is not None:
        telemetry.tag(organisation_id=chosen.organisation.id)
        log.info(
            "referral %s matched to organisation %s (%s tier, %d eligible)",
            request.referral_id,
            chosen.organisation.id,
            chosen.tier.value,
            result.eligible_count,
        )
    else:
        log.warning("referral %s unmatched: %s", request.referral_id, ",".join(reasons))
    return outcome
