"""HSDS's HTTP edge: the HSDS 3.0 read endpoints (paged), and the register's import and export."""

import uuid
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from contracts.municipality import MunicipalityCode
from directory.deps import Ctx
from directory.fields import PostalCode
from directory.hsds import service
from directory.hsds.mapping import location_to_hsds, term_out
from directory.hsds.models import LocationIO, OrganizationIO, RegisterIO, TaxonomyTermOut
from directory.paging import Page, PageNumber, PageRequest, Paging, PerPage
from directory.register.models import ServiceOut
from eventkit.deps import AnyRole, Operator, Pool, Staff
from eventkit.routing import api_router
from eventkit.text import Line

router = api_router(tags=["hsds"])


@router.get("/services", summary="HSDS: services, by area, organisation or taxonomy term")
async def list_services(
    _: Staff,
    pool: Pool,
    context: Ctx,
    paging: Paging,
    municipality_code: Annotated[MunicipalityCode | None, Query()] = None,
    organization_id: Annotated[uuid.UUID | None, Query()] = None,
    taxonomy_term_id: Annotated[uuid.UUID | None, Query(description="A topic or capability term.")] = None,
    search: Annotated[Line | None, Query(max_length=100)] = None,
) -> Page[ServiceOut]:
    found = await service.services_page(
        pool,
        context=context,
        municipality_code=municipality_code,
        organisation_id=organization_id,
        term_id=taxonomy_term_id,
        search=search,
        page=paging,
    )
    return Page[ServiceOut].of(found.map(ServiceOut.of))


class ServiceAtLocationOut(BaseModel):
    id: uuid.UUID
    service_id: uuid.UUID
    location_id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    service_name: str
    location: LocationIO
    distance_m: float | None = Field(description="From the search's point, when it has one.")

    @classmethod
    def of(cls, nearby: service.Nearby) -> "ServiceAtLocationOut":
        sal, distance = nearby.found, nearby.distance_m
        return cls(
            id=sal.id,
            service_id=sal.service.id,
            location_id=sal.location.id,
            organization_id=sal.service.organisation_id,
            organization_name=sal.organisation_name,
            service_name=sal.service.name,
            location=location_to_hsds(sal.location),
            distance_m=round(distance, 1) if distance is not None else None,
        )


@router.get("/service_at_locations")
async def service_at_locations(
    _: Staff,
    pool: Pool,
    context: Ctx,
    paging: Paging,
    municipality_code: Annotated[MunicipalityCode | None, Query()] = None,
    postcode: Annotated[PostalCode | None, Query(description="7 digits, e.g. 100-0001")] = None,
    proximity: Annotated[float | None, Query(gt=0, le=500_000, description="Metres")] = None,
    latitude: Annotated[float | None, Query(ge=20, le=46)] = None,
    longitude: Annotated[float | None, Query(ge=122, le=154)] = None,
    organization_id: Annotated[uuid.UUID | None, Query()] = None,
    taxonomy_term_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[ServiceAtLocationOut]:
    """HSDS: services at their offices, by municipality or postal code, optionally by proximity

    With `municipality_code` or `postcode` alone: offices in that municipality (a designated city includes
    its wards). With `proximity` (metres): offices within that distance of the point —
    `latitude`/`longitude` if given, else the municipality's reference point (its office; no offline source
    has postal-code centroids) — nearest first.
    """
    found = await service.service_at_locations(
        pool,
        context=context,
        municipality_code=municipality_code,
        postal_code=postcode,
        latitude=latitude,
        longitude=longitude,
        proximity_m=proximity,
        organisation_id=organization_id,
        term_id=taxonomy_term_id,
        page=paging,
    )
    return Page[ServiceAtLocationOut].of(found.map(ServiceAtLocationOut.of))


@router.get("/organizations", summary="HSDS: organizations, fully nested")
async def hsds_organizations(
    _: Staff,
    pool: Pool,
    context: Ctx,
    paging: Paging,
    search: Annotated[Line | None, Query(max_length=100)] = None,
    municipality_code: Annotated[MunicipalityCode | None, Query()] = None,
) -> Page[OrganizationIO]:
    found = await service.organizations_page(
        pool, context=context, search=search, municipality_code=municipality_code, page=paging
    )
    return Page[OrganizationIO].of(found)


@router.get(
    "/organizations/{organisation_id}",
    summary="HSDS: one organization, fully nested (a partner: only its own)",
)
async def hsds_organization(
    organisation_id: uuid.UUID, principal: AnyRole, pool: Pool, context: Ctx
) -> OrganizationIO:
    return await service.organization(
        pool, context=context, principal=principal, organisation_id=organisation_id
    )


class TaxonomyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str
    version: str


@router.get("/taxonomies", summary="HSDS: taxonomies")
async def taxonomies(_: AnyRole) -> Page[TaxonomyOut]:
    return Page[TaxonomyOut].of(service.taxonomies().map(TaxonomyOut.model_validate))


@router.get("/taxonomy_terms", summary="HSDS: taxonomy terms")
async def taxonomy_terms(
    _: AnyRole,
    taxonomy_id: Annotated[uuid.UUID | None, Query()] = None,
    search: Annotated[Line | None, Query(max_length=100)] = None,
    top_only: Annotated[bool, Query(description="Every term is top-level: the taxonomies are flat.")] = False,
    page: PageNumber = 1,
    per_page: PerPage = 100,
) -> Page[TaxonomyTermOut]:
    found = service.taxonomy_terms(taxonomy_id=taxonomy_id, search=search, page=PageRequest(page, per_page))
    return Page[TaxonomyTermOut].of(found.map(term_out))


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    organizations: int
    services: int
    locations: int
    created: int = Field(description="Organizations that were new.")
    changed_fields: int = Field(
        description="Fields that differed (0 when the same document is imported again)."
    )


@router.post(
    "/hsds/import",
    summary="Import HSDS 3.0 JSON: organizations with nested services and locations (all or nothing)",
)
async def hsds_import(body: RegisterIO, principal: Operator, pool: Pool, context: Ctx) -> ImportOut:
    summary = await service.import_hsds(pool, context=context, principal=principal, document=body)
    return ImportOut.model_validate(summary)


@router.get("/hsds/export", summary="Export the whole register as HSDS 3.0 JSON (what /hsds/import reads)")
async def hsds_export(_: Operator, pool: Pool) -> RegisterIO:
    return await service.export_hsds(pool)
