"""HSDS's use cases: import and export the register as HSDS 3.0 JSON, and its paged read endpoints.

An import is one transaction, all or nothing, and changes (and logs) only what differs; the read
endpoints page, search and filter here, so that the routes only translate.
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from directory.context import Context
from directory.curation import repository as curation_repository
from directory.curation import service as curation
from directory.curation.domain import RegisterQuery
from directory.curation.service import verification_change
from directory.geography.domain import distance_m
from directory.geography.service import place_of
from directory.hsds import mapping, repository, taxonomy
from directory.hsds.models import OrganizationIO, RegisterIO
from directory.hsds.repository import ServiceAtLocation
from directory.paging import Paged, PageRequest
from directory.register import repository as register
from directory.register import service as register_service
from directory.register.changelog import Change, entry_changes
from directory.register.domain import Location, Service, check_reachable
from eventkit.auth import Principal
from eventkit.errors import invalid

log = logging.getLogger(__name__)

# ---- import and export -------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    organizations: int
    services: int
    locations: int
    created: int
    changed_fields: int


async def _import_part(
    conn: asyncpg.Connection, stored: Service | Location | None, part: Service | Location, *, by: str
) -> list[Change]:
    """Save an imported organization's service or office where it differs from the stored one.

    An import never moves a service or an office from one organization to another.
    """
    resource_type = "service" if isinstance(part, Service) else "location"
    if stored is not None and stored.organisation_id != part.organisation_id:
        raise invalid("body.organizations", f"{resource_type} {stored.id} belongs to another organization")
    changes = entry_changes(stored, part, resource_type=resource_type, by=by, action="import")
    if changes:
        if isinstance(part, Service):
            await register.upsert_service(conn, service=part, updated_by=by)
        else:
            await register.upsert_location(conn, location=part, updated_by=by)
    return changes


async def import_hsds(
    pool: asyncpg.Pool, *, context: Context, principal: Principal, document: RegisterIO
) -> ImportSummary:
    """Upsert every organization with its services and locations, all or nothing.

    Importing the same document again changes nothing and logs nothing (only differences are
    recorded), which is what lets the run command load its sample directory on every start.
    """
    by, now = principal.subject, context.clock()
    services = locations = created = changed = 0
    async with pool.acquire() as conn, conn.transaction():
        for org in document.organizations:
            organisation, org_services, org_locations = mapping.from_hsds(org, now=now)
            check_reachable(organisation, prefix=f"body.organizations.{organisation.id}")
            inserted = await register.insert_organisation(conn, organisation=organisation, updated_by=by)
            before, stored_verification = None, None
            if inserted:
                created += 1
            else:
                found = await register.get_organisation(
                    conn, organisation_id=organisation.id, for_update=True
                )
                assert found is not None
                before, stored_verification = found[0], found[1].verified
            changes = entry_changes(
                before, organisation, resource_type="organization", by=by, action="import"
            )
            if before is not None and changes:
                await register.update_organisation(conn, organisation=organisation, updated_by=by)
            # A document that does not say is no evidence that nobody confirmed the entry, and an
            # older confirmation does not undo a newer one: the later of the two stands.
            verification = mapping.verification_from_hsds(org, importer=by)
            if verification is not None and verification.later(stored_verification) != stored_verification:
                await curation_repository.set_verification(
                    conn, organisation_id=organisation.id, verification=verification
                )
                changes.append(
                    verification_change(
                        organisation.id,
                        stored_verification,
                        verification,
                        "import" if stored_verification else "create",
                    )
                )
            for service in org_services:
                existing = await register.get_service(conn, service_id=service.id, for_update=True)
                changes += await _import_part(conn, existing[0] if existing else None, service, by=by)
            for location in org_locations:
                stored = await register.get_location(conn, location_id=location.id)
                changes += await _import_part(conn, stored, location, by=by)
            services += len(org_services)
            locations += len(org_locations)
            await register.log_changes(conn, changes)
            changed += len(changes)
    log.info(
        "HSDS import: %d organizations (%d new), %d services, %d locations, %d fields changed",
        len(document.organizations),
        created,
        services,
        locations,
        changed,
    )
    return ImportSummary(len(document.organizations), services, locations, created, changed)


async def export_hsds(
    pool: asyncpg.Pool, *, organisation_ids: Sequence[uuid.UUID] | None = None
) -> RegisterIO:
    async with pool.acquire() as conn:
        ids = (
            list(organisation_ids)
            if organisation_ids is not None
            else await register.all_organisation_ids(conn)
        )
        records = []
        for org_id in ids:
            record = await register_service.record_of(conn, org_id)
            if record is not None:
                records.append(record)
        locations = await register.locations_of(conn, organisation_ids=ids)
        resource_ids = [*ids, *(s.id for r in records for s in r.services)]
        changes = await register.changes_of(conn, resource_ids=resource_ids)
    by_org: dict[uuid.UUID, list[Location]] = {}
    for loc in locations:
        by_org.setdefault(loc.organisation_id, []).append(loc)
    return RegisterIO(
        organizations=[mapping.to_hsds(r, by_org.get(r.organisation.id, []), changes) for r in records]
    )


# ---- the read endpoints ------------------------------------------------------------------------


async def organizations_page(
    pool: asyncpg.Pool,
    *,
    context: Context,
    search: str | None,
    municipality_code: str | None,
    page: PageRequest,
) -> Paged[OrganizationIO]:
    found = await curation.search(
        pool,
        context=context,
        query=RegisterQuery(text=search, area=curation.area_of(context, municipality_code)),
        page=page,
    )
    exported = await export_hsds(pool, organisation_ids=[r.organisation.id for r in found.items])
    return Paged(exported.organizations, found.total, page)


async def organization(
    pool: asyncpg.Pool, *, context: Context, principal: Principal, organisation_id: uuid.UUID
) -> OrganizationIO:
    """One organization, fully nested; a partner sees only its own (another's is `NotFound`)."""
    await register_service.get_organisation(
        pool, context=context, principal=principal, organisation_id=organisation_id
    )
    exported = await export_hsds(pool, organisation_ids=[organisation_id])
    return exported.organizations[0]


async def services_page(
    pool: asyncpg.Pool,
    *,
    context: Context,
    municipality_code: str | None,
    organisation_id: uuid.UUID | None,
    term_id: uuid.UUID | None,
    search: str | None,
    page: PageRequest,
) -> Paged[Service]:
    area = context.geography.area_of(municipality_code).keys() if municipality_code else None
    async with pool.acquire() as conn:
        found, total = await repository.list_services(
            conn,
            area=area,
            organisation_id=organisation_id,
            term=taxonomy.code_of(term_id),
            search=search,
            limit=page.size,
            offset=page.offset,
        )
    return Paged(found, total, page)


@dataclass(frozen=True)
class Nearby:
    """A service at an office, and how far the office is from the search's point (if it has one)."""

    found: ServiceAtLocation
    distance_m: float | None


async def service_at_locations(
    pool: asyncpg.Pool,
    *,
    context: Context,
    municipality_code: str | None,
    postal_code: str | None,
    latitude: float | None,
    longitude: float | None,
    proximity_m: float | None,
    organisation_id: uuid.UUID | None,
    term_id: uuid.UUID | None,
    page: PageRequest,
) -> Paged[Nearby]:
    """HSDS /service_at_locations: in the municipalities, or within `proximity_m` of the point."""
    place = place_of(
        context.geography,
        municipality_code=municipality_code,
        postal_code=postal_code,
        latitude=latitude,
        longitude=longitude,
    )
    if proximity_m is not None and (place is None or place.point is None):
        raise invalid("query.proximity", "needs latitude/longitude, a municipality_code or a postcode")
    codes: list[str] | None = None
    if place is not None and proximity_m is None:
        codes = []
        for m in place.municipalities:
            # A designated city's offices are registered in its wards.
            codes += [m.code, *context.geography.wards_of(m.code)]
    async with pool.acquire() as conn:
        found = await repository.find_service_at_locations(
            conn, municipality_codes=codes, organisation_id=organisation_id, term=taxonomy.code_of(term_id)
        )
    results: list[Nearby] = []
    for sal in found:
        loc = sal.location
        distance = None
        if place is not None and place.point and loc.latitude is not None and loc.longitude is not None:
            distance = distance_m(place.point, (loc.latitude, loc.longitude))
        if proximity_m is not None and (distance is None or distance > proximity_m):
            continue
        results.append(Nearby(sal, distance))
    if proximity_m is not None:
        results.sort(key=lambda n: (n.distance_m or 0.0, n.found.id.int))
    return page.window(results)


def taxonomies() -> Paged[taxonomy.Taxonomy]:
    """Every taxonomy, on one page."""
    return PageRequest(1, max(1, len(taxonomy.TAXONOMIES))).window(taxonomy.TAXONOMIES)


def taxonomy_terms(
    *, taxonomy_id: uuid.UUID | None, search: str | None, page: PageRequest
) -> Paged[taxonomy.Term]:
    return page.window(taxonomy.find_terms(taxonomy_id=taxonomy_id, search=search))
