"""referral's use cases. Each fact is one transaction: the referral, its timeline row, its events."""

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from contracts.events import ConsultationRecorded
from eventkit import outbox, telemetry
from eventkit.auth import Principal, Role
from eventkit.errors import ApiError, ErrorDetail, not_found
from referral import domain, repository
from referral.domain import Fact, Referral, ReferralState, Step, TimelineEntry

ACTOR = "referral"


class FactRejected(Exception):
    """A fact that can never apply; `reason` is a machine code for the dead-letter record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def open_referral(
    conn: asyncpg.Connection, *, event: ConsultationRecorded, event_id: uuid.UUID
) -> Referral | None:
    """Open a referral for a serious, shareable case and ask for a match; None if none is opened.

    Runs in the caller's transaction, so the row, its timeline entry and `ReferralRequested`
    commit together.
    """
    if not domain.should_open_referral(event):
        return None
    referral = domain.open_referral(event, referral_id=uuid.uuid4(), now=datetime.now(UTC))
    trace_id = telemetry.current_trace_id()
    if not await repository.insert_referral(conn, referral=referral, trace_id=trace_id):
        # The case was recorded again (another event id): its referral already exists.
        return None
    await repository.add_timeline_entry(
        conn,
        referral_id=referral.id,
        state=ReferralState.REQUESTED,
        at=referral.created_at,
        actor=ACTOR,
        detail={"event_id": str(event_id)},
        trace_id=trace_id,
    )
    await outbox.append(conn, referral.requested_event())
    return referral


async def record_fact(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID,
    case_id: uuid.UUID,
    fact: Fact,
    actor: str,
    event_id: uuid.UUID,
) -> Referral:
    """Apply another service's fact to its referral (in the caller's transaction)."""
    referral = await repository.lock_referral(conn, referral_id=referral_id)
    if referral is None:
        raise FactRejected("unknown_referral")
    if referral.case_id != case_id:
        # Messages are keyed by case id; a fact under another case would break per-case order.
        raise FactRejected("case_mismatch")
    try:
        step = domain.decide(referral, fact)
        changed = domain.apply(referral, fact)
    except domain.IllegalTransition as error:
        raise FactRejected(error.reason) from error
    if changed != referral:
        await repository.update_referral(conn, referral=changed)
    await repository.add_timeline_entry(
        conn,
        referral_id=referral.id,
        state=fact.announces,
        at=fact.at,
        actor=actor,
        detail=_detail(fact, event_id=event_id, late=step is Step.RECORD_ONLY),
        trace_id=telemetry.current_trace_id(),
    )
    return changed


def _detail(fact: Fact, *, event_id: uuid.UUID, late: bool) -> dict[str, Any]:
    """Ids and codes only: the timeline is shown to partners and operators."""
    detail: dict[str, Any] = {"event_id": str(event_id)}
    if late:
        detail["late"] = True
    match fact:
        case domain.Matched():
            detail["organisation_id"] = str(fact.organisation_id)
        case domain.Notified():
            detail |= {"organisation_id": str(fact.organisation_id), "attempt": fact.attempt}
        case domain.DeliveryFailed():
            detail |= {
                "organisation_id": str(fact.organisation_id),
                "attempt": fact.attempt,
                "reason": fact.reason[:100],
            }
        case domain.Unmatched():
            pass
    return detail


def _may_read(principal: Principal, referral: Referral) -> bool:
    if principal.role in (Role.COUNSELLOR, Role.OPERATOR):
        return True
    return referral.organisation_id is not None and principal.is_partner_of(referral.organisation_id)


async def get_referral(
    pool: asyncpg.Pool, *, principal: Principal, referral_id: uuid.UUID
) -> tuple[Referral, list[TimelineEntry]]:
    async with pool.acquire() as conn:
        referral = await repository.get_referral(conn, referral_id=referral_id)
        # Another partner's referral is a 404 like a missing one, so that ids cannot be probed.
        if referral is None or not _may_read(principal, referral):
            raise not_found("referral")
        entries = await repository.timeline(conn, referral_id=referral_id)
    telemetry.tag(case_id=referral.case_id, referral_id=referral.id, organisation_id=referral.organisation_id)
    return referral, entries


async def list_referrals(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    case_id: uuid.UUID | None,
    state: ReferralState | None,
    limit: int,
) -> list[Referral]:
    """By case (counsellors and operators), optionally narrowed by state; or by state (operators)."""
    if case_id is None and state is None:
        raise ApiError(
            422,
            "validation_failed",
            "The request is invalid.",
            details=[ErrorDetail(field="query.case_id", reason="Give case_id or state.")],
        )
    async with pool.acquire() as conn:
        if case_id is not None:
            telemetry.tag(case_id=case_id)
            found = await repository.referrals_of_case(conn, case_id=case_id)
            return [r for r in found if state is None or r.state is state][:limit]
        assert state is not None
        if principal.role is not Role.OPERATOR:
            raise ApiError(403, "forbidden", "Listing referrals by state needs the operator role.")
        return await repository.referrals_in_state(conn, state=state, limit=limit)
