"""Finding organisations in the whole register and confirming entries: the use cases.

Every record an operator reads here says whether its entry is stale, judged at the context's
clock against `context.verification_stale_after`.
"""

import uuid
from datetime import UTC

import asyncpg

from directory.context import Context
from directory.curation import repository
from directory.curation.domain import RegisterQuery, stale_cutoff
from directory.paging import Paged, PageRequest
from directory.register import repository as register
from directory.register.changelog import Change
from directory.register.domain import OrganisationRecord, Service, Verification
from directory.register.service import check_organisation_visible, record_of
from eventkit.auth import Principal
from eventkit.errors import not_found


def area_of(context: Context, municipality_code: str | None) -> tuple[str, ...] | None:
    """The coverage entries that reach a municipality (it, its city, prefecture, JP)."""
    return tuple(context.geography.area_of(municipality_code).keys()) if municipality_code else None


async def _search(
    pool: asyncpg.Pool, *, context: Context, query: RegisterQuery, limit: int, offset: int
) -> tuple[list[OrganisationRecord], int]:
    now = context.clock()
    async with pool.acquire() as conn:
        found, total = await repository.search(
            conn,
            query=query,
            stale_before=stale_cutoff(now=now, stale_after=context.verification_stale_after),
            limit=limit,
            offset=offset,
        )
        services = await register.services_of(conn, organisation_ids=[o.id for o, _ in found])
    by_org: dict[uuid.UUID, list[Service]] = {}
    for s in services:
        by_org.setdefault(s.organisation_id, []).append(s)
    records = [
        OrganisationRecord(
            o, tuple(by_org.get(o.id, ())), a.created_at, a.updated_at, a.updated_by, a.verified
        ).judged(now=now, stale_after=context.verification_stale_after)
        for o, a in found
    ]
    return records, total


async def search(
    pool: asyncpg.Pool, *, context: Context, query: RegisterQuery, page: PageRequest
) -> Paged[OrganisationRecord]:
    """A page of what the query finds in the whole register, by name then id, with the total."""
    records, total = await _search(pool, context=context, query=query, limit=page.size, offset=page.offset)
    return Paged(records, total, page)


async def search_window(
    pool: asyncpg.Pool, *, context: Context, query: RegisterQuery, limit: int, offset: int
) -> list[OrganisationRecord]:
    """The same, as rows `offset` to `offset + limit` (the plain list's paging)."""
    records, _ = await _search(pool, context=context, query=query, limit=limit, offset=offset)
    return records


async def verify(
    pool: asyncpg.Pool, *, context: Context, principal: Principal, organisation_id: uuid.UUID
) -> OrganisationRecord:
    """A person confirmed the entry with the organisation now: an operator, or the partner itself."""
    check_organisation_visible(principal, organisation_id)
    now = context.clock()
    verification = Verification(now, principal.subject)
    async with pool.acquire() as conn, conn.transaction():
        found = await register.get_organisation(conn, organisation_id=organisation_id, for_update=True)
        if found is None:
            raise not_found("organisation")
        before = found[1].verified
        await repository.set_verification(conn, organisation_id=organisation_id, verification=verification)
        await register.log_changes(
            conn, [verification_change(organisation_id, before, verification, "verify")]
        )
        record = await record_of(conn, organisation_id)
    assert record is not None
    return record.judged(now=now, stale_after=context.verification_stale_after)


def verification_change(
    organisation_id: uuid.UUID, before: Verification | None, after: Verification, action: str
) -> Change:
    """The change log's row for a confirmation: `last_verified_at`, from when to when, by whom."""
    return Change(
        organisation_id,
        "organization",
        action,
        "last_verified_at",
        before.at.astimezone(UTC).isoformat() if before else "",
        after.at.astimezone(UTC).isoformat(),
        after.by,
    )
