"""Reading deliveries: operators see all of them; a partner only its own organisation's, and
another's looks exactly like one that does not exist."""

import uuid

import asyncpg

from eventkit import telemetry
from eventkit.auth import Principal, Role
from eventkit.errors import not_found
from notify.deliveries import repository
from notify.deliveries.domain import Delivery, DeliveryStatus, DeliveryTry


def _may_see(principal: Principal, organisation_id: uuid.UUID) -> bool:
    return principal.role is Role.OPERATOR or principal.is_partner_of(organisation_id)


async def get_delivery(
    pool: asyncpg.Pool, *, principal: Principal, delivery_id: str
) -> tuple[Delivery, list[DeliveryTry]]:
    async with pool.acquire() as conn:
        found = await repository.get_delivery(conn, delivery_id=delivery_id)
        # Another partner's delivery is "not found", so ids cannot be probed.
        if found is None or not _may_see(principal, found.organisation_id):
            raise not_found("delivery")
        tries = await repository.list_attempts(conn, delivery_uuid=found.id)
    telemetry.tag(case_id=found.case_id, referral_id=found.referral_id, organisation_id=found.organisation_id)
    return found, tries


async def list_deliveries(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    referral_id: uuid.UUID | None,
    organisation_id: uuid.UUID | None,
    status: DeliveryStatus | None,
    limit: int,
) -> list[Delivery]:
    if principal.role is Role.PARTNER:
        # A partner's view is its own organisation; asking for another one finds nothing.
        if organisation_id is not None and organisation_id != principal.organisation_id:
            return []
        organisation_id = principal.organisation_id
    async with pool.acquire() as conn:
        return await repository.list_deliveries(
            conn,
            referral_id=referral_id,
            organisation_id=organisation_id,
            status=status,
            limit=limit,
        )
