"""Reading referrals: one referral with its timeline, a case's referrals, the operators' work lists.
What a reader may see is decided here (views.domain), so the routes only shape the answer."""

import uuid
from collections.abc import Sequence

import asyncpg

from eventkit import telemetry
from eventkit.auth import Principal, Role
from eventkit.errors import Forbidden, invalid, not_found
from referral.lifecycle import repository
from referral.lifecycle.domain import Referral
from referral.lifecycle.service import Lifecycle
from referral.lifecycle.states import ReferralState
from referral.views.domain import ReferralRecord, actions_for, may_read, narrowed_to, seen


async def get_referral(pool: asyncpg.Pool, *, principal: Principal, referral_id: uuid.UUID) -> ReferralRecord:
    """The referral, its attempts and timeline (a partner's own only, and only while it holds it),
    and the steps the reader may take on it now."""
    own = narrowed_to(principal)
    async with pool.acquire() as conn:
        referral = await repository.get_referral(conn, referral_id=referral_id)
        # Another partner's referral is a 404 like a missing one, so that ids cannot be probed.
        if referral is None or not may_read(principal, referral):
            raise not_found("referral")
        entries = await repository.timeline(conn, referral_id=referral_id, organisation_id=own)
    telemetry.tag(case_id=referral.case_id, referral_id=referral.id, organisation_id=referral.organisation_id)
    return seen(referral, entries, only=own, actions=actions_for(principal, referral))


async def timeline(pool: asyncpg.Pool, *, principal: Principal, referral_id: uuid.UUID) -> ReferralRecord:
    """Counsellors and operators: everything. A partner: the entries of its own attempts, also
    after the case moved on (so it can see why), and 404 if it never had one."""
    own = narrowed_to(principal)
    async with pool.acquire() as conn:
        referral = await repository.get_referral(conn, referral_id=referral_id)
        if referral is None:
            raise not_found("referral")
        if principal.role is Role.PARTNER and (
            own is None
            or not await repository.has_attempt_of(conn, referral_id=referral_id, organisation_id=own)
        ):
            raise not_found("referral")
        entries = await repository.timeline(conn, referral_id=referral_id, organisation_id=own)
    telemetry.tag(case_id=referral.case_id, referral_id=referral.id)
    return seen(referral, entries, only=own)


async def list_referrals(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    case_ids: Sequence[uuid.UUID],
    state: ReferralState | None,
    limit: int,
) -> list[Referral]:
    """By case (counsellors and operators), optionally narrowed by state; or by state (operators)."""
    if not case_ids and state is None:
        raise invalid("query.case_id", "Give case_id or state.")
    async with pool.acquire() as conn:
        if case_ids:
            if len(case_ids) == 1:
                telemetry.tag(case_id=case_ids[0])
            found = await repository.referrals_of_cases(conn, case_ids=case_ids)
            return [r for r in found if state is None or r.state is state][:limit]
        assert state is not None
        if principal.role is not Role.OPERATOR:
            raise Forbidden("Listing referrals by state needs the operator role.")
        return await repository.referrals_in_state(conn, state=state, limit=limit)


async def overdue(pool: asyncpg.Pool, *, lifecycle: Lifecycle, limit: int) -> list[Referral]:
    """Open offers past their deadline by the lifecycle's clock, oldest deadline first."""
    async with pool.acquire() as conn:
        return await repository.overdue_referrals(conn, now=lifecycle.clock(), limit=limit)
