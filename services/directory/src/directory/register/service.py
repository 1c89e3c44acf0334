"""The register's use cases: organisations, services and their capacity, offices; one transaction each.

Every change is logged field by field (`changelog.py`). Partners see and change only their own
organisation's entries: another's answers `NotFound`, so that ids cannot be probed.
"""

import dataclasses
import uuid

import asyncpg

from directory.context import Context
from directory.register import repository
from directory.register.changelog import Change, diff, entry_changes
from directory.register.domain import (
    Capacity,
    Location,
    Organisation,
    OrganisationRecord,
    Service,
    ServiceStatus,
    check_reachable,
    may_see,
)
from eventkit import telemetry
from eventkit.auth import Principal, Role
from eventkit.errors import invalid, not_found

# ---- organisations -----------------------------------------------------------------------------


def check_organisation_visible(principal: Principal, organisation_id: uuid.UUID) -> None:
    """Tag the span with the organisation; a partner asking about another's is answered not found."""
    telemetry.tag(organisation_id=organisation_id)
    if not may_see(principal, organisation_id):
        raise not_found("organisation")


async def record_of(conn: asyncpg.Connection, organisation_id: uuid.UUID) -> OrganisationRecord | None:
    """An organisation with its services and audit, inside the caller's transaction."""
    found = await repository.get_organisation(conn, organisation_id=organisation_id)
    if found is None:
        return None
    organisation, audit = found
    services = await repository.services_of(conn, organisation_ids=[organisation_id])
    return OrganisationRecord(
        organisation, tuple(services), audit.created_at, audit.updated_at, audit.updated_by, audit.verified
    )


async def save_service(
    conn: asyncpg.Connection, *, service: Service, by: str, action: str = "update"
) -> tuple[Service, bool]:
    """Upsert a service, keeping its live capacity (changed only by reports and handoffs)."""
    existing = await repository.get_service(conn, service_id=service.id, for_update=True)
    before = existing[0] if existing else None
    service = dataclasses.replace(service, capacity=before.capacity if before else None)
    await repository.upsert_service(conn, service=service, updated_by=by)
    await repository.log_changes(
        conn,
        entry_changes(before, service, resource_type="service", by=by, action=action, skip=("capacity",)),
    )
    return service, before is None


async def put_organisation(
    pool: asyncpg.Pool,
    *,
    context: Context,
    principal: Principal,
    organisation: Organisation,
    main_service: Service | None = None,
) -> tuple[OrganisationRecord, bool]:
    """Create the organisation under its id, or replace it (and its main service); (it, created?)."""
    telemetry.tag(organisation_id=organisation.id)
    check_reachable(organisation)
    by = principal.subject
    async with pool.acquire() as conn, conn.transaction():
        # Insert first: ON CONFLICT waits for a concurrent insert of the same id, so two racing
        # PUTs end as one create and one update instead of a unique-violation error.
        created = await repository.insert_organisation(conn, organisation=organisation, updated_by=by)
        before = None
        if not created:
            found = await repository.get_organisation(conn, organisation_id=organisation.id, for_update=True)
            assert found is not None, "organisations are never deleted, only deactivated"
            before = found[0]
            await repository.update_organisation(conn, organisation=organisation, updated_by=by)
        await repository.log_changes(
            conn, entry_changes(before, organisation, resource_type="organization", by=by)
        )
        if main_service is not None:
            await save_service(conn, service=main_service, by=by)
        record = await record_of(conn, organisation.id)
    assert record is not None
    return record.judged(now=context.clock(), stale_after=context.verification_stale_after), created


async def get_organisation(
    pool: asyncpg.Pool, *, context: Context, principal: Principal, organisation_id: uuid.UUID
) -> OrganisationRecord:
    check_organisation_visible(principal, organisation_id)
    async with pool.acquire() as conn:
        record = await record_of(conn, organisation_id)
    if record is None:
        raise not_found("organisation")
    return record.judged(now=context.clock(), stale_after=context.verification_stale_after)


async def deactivate_organisation(
    pool: asyncpg.Pool, *, principal: Principal, organisation_id: uuid.UUID
) -> None:
    """Soft delete: past matches keep pointing at it, new referrals no longer reach it."""
    telemetry.tag(organisation_id=organisation_id)
    async with pool.acquire() as conn, conn.transaction():
        was_active = await repository.deactivate_organisation(
            conn, organisation_id=organisation_id, updated_by=principal.subject
        )
        if was_active is None:
            raise not_found("organisation")
        if was_active:
            await repository.log_changes(
                conn,
                [
                    Change(
                        organisation_id,
                        "organization",
                        "deactivate",
                        "active",
                        "true",
                        "false",
                        principal.subject,
                    )
                ],
            )


# ---- services and capacity ---------------------------------------------------------------------


async def put_service(pool: asyncpg.Pool, *, principal: Principal, service: Service) -> tuple[Service, bool]:
    """Operators change any service; a partner only its own organisation's (others are 404)."""
    telemetry.tag(organisation_id=service.organisation_id)
    async with pool.acquire() as conn, conn.transaction():
        existing = await repository.get_service(conn, service_id=service.id, for_update=True)
        if existing and not may_see(principal, existing[0].organisation_id):
            raise not_found("service")
        if not may_see(principal, service.organisation_id):
            raise not_found("organisation")
        if (
            existing
            and existing[0].organisation_id != service.organisation_id
            and principal.role is Role.PARTNER
        ):
            raise not_found("service")
        if await repository.get_organisation(conn, organisation_id=service.organisation_id) is None:
            raise invalid("body.organization_id", "no organisation with that id")
        return await save_service(conn, service=service, by=principal.subject)


async def get_service(pool: asyncpg.Pool, *, principal: Principal, service_id: uuid.UUID) -> Service:
    async with pool.acquire() as conn:
        found = await repository.get_service(conn, service_id=service_id)
    if found is None or not may_see(principal, found[0].organisation_id):
        raise not_found("service")
    return found[0]


async def deactivate_service(pool: asyncpg.Pool, *, principal: Principal, service_id: uuid.UUID) -> None:
    async with pool.acquire() as conn, conn.transaction():
        found = await repository.get_service(conn, service_id=service_id, for_update=True)
        if found is None:
            raise not_found("service")
        service = found[0]
        if service.status is not ServiceStatus.INACTIVE:
            await save_service(
                conn,
                service=dataclasses.replace(service, status=ServiceStatus.INACTIVE),
                by=principal.subject,
                action="deactivate",
            )


async def report_capacity(
    pool: asyncpg.Pool, *, principal: Principal, service_id: uuid.UUID, capacity: Capacity
) -> Service:
    """A partner (or an operator) says how many more referrals the service can take now."""
    available, maximum = capacity.available, capacity.maximum
    if maximum is not None and available > maximum:
        raise invalid("body.available", f"available ({available}) is above maximum ({maximum})")
    async with pool.acquire() as conn, conn.transaction():
        found = await repository.get_service(conn, service_id=service_id, for_update=True)
        if found is None or not may_see(principal, found[0].organisation_id):
            raise not_found("service")
        before = found[0].capacity
        await repository.set_capacity(
            conn, service_id=service_id, capacity=capacity, updated_by=principal.subject
        )
        await repository.log_changes(
            conn,
            diff(
                before,
                capacity,
                resource_id=service_id,
                resource_type="service_capacity",
                action="report",
                by=principal.subject,
                skip=("updated", "reported_at"),
            ),
        )
    return dataclasses.replace(found[0], capacity=capacity)


# ---- locations ---------------------------------------------------------------------------------


async def put_location(pool: asyncpg.Pool, *, principal: Principal, location: Location) -> Location:
    async with pool.acquire() as conn, conn.transaction():
        if await repository.get_organisation(conn, organisation_id=location.organisation_id) is None:
            raise invalid("body.organization_id", "no organisation with that id")
        services = await repository.services_of(conn, organisation_ids=[location.organisation_id])
        foreign = set(location.service_ids) - {s.id for s in services}
        if foreign:
            raise invalid("body.service_ids", "every service must belong to the location's organisation")
        before = await repository.get_location(conn, location_id=location.id)
        await repository.upsert_location(conn, location=location, updated_by=principal.subject)
        await repository.log_changes(
            conn, entry_changes(before, location, resource_type="location", by=principal.subject)
        )
    return location
