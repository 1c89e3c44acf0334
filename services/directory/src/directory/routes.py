"""directory's HTTP edge: request model → service call → response model."""

import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from contracts.hours import JST, HoursBasis
from contracts.municipality import CurrentMunicipalityCode, Municipality, MunicipalityCode
from contracts.vocabulary import AgeBand, Gender, IssueTag, Severity, Topic
from directory import hsds, service, taxonomy
from directory.deps import AnyRole, Ctx, Editor, Operator, Pool, Staff
from directory.domain import (
    Capability,
    Channel,
    Eligibility,
    Exclusion,
    Location,
    MatchResult,
    Organisation,
    OrganisationRecord,
    OrgType,
    ReferralNeeds,
    Residency,
    Service,
    ServiceStatus,
    validate_corporate_number,
    validate_coverage_entry,
)
from directory.geography import validate_postal_code
from eventkit.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

CoverageEntry = Annotated[
    str,
    Field(
        description="6-digit municipality code, 2-digit prefecture code (01–47) or 'JP' (national)",
        examples=["131041", "13", "JP"],
    ),
    AfterValidator(validate_coverage_entry),
]
OrganisationName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# A shared organisational mailbox; deliberately loose (full address syntax is not our concern).
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
CorporateNumber = Annotated[str, AfterValidator(validate_corporate_number)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
PostalCode = Annotated[str, AfterValidator(validate_postal_code)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class ServiceFields(BaseModel):
    """What a service offers, where, to whom and when (the organisation's main service too)."""

    model_config = ConfigDict(extra="forbid")

    coverage: list[CoverageEntry] = Field(
        min_length=1, max_length=500, description="Where it takes cases; duplicates are dropped."
    )
    topics: list[Topic] = Field(
        max_length=len(Topic), description="Topics it takes; an empty list means every topic."
    )
    capabilities: list[Capability] = Field(default_factory=list, description="面談, 同行支援, 訪問 …")
    languages: list[LanguageCode] = Field(
        default=["ja"], min_length=1, max_length=50, examples=[["ja", "en"]]
    )
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    genders: list[Gender] = Field(default_factory=list, description="Only these genders; empty: anyone.")
    residency: Residency = Residency.ANY
    schedules: list[hsds.ScheduleIO] = Field(
        default_factory=list, max_length=50, description="Weekly hours in Japan time; empty: not published."
    )

    def _service(self, service_id: uuid.UUID, organisation_id: uuid.UUID, name: str, **more: Any) -> Service:
        if (
            self.minimum_age is not None
            and self.maximum_age is not None
            and self.minimum_age > self.maximum_age
        ):
            raise ValueError("minimum_age is above maximum_age")
        return Service(
            id=service_id,
            organisation_id=organisation_id,
            name=name,
            coverage=tuple(dict.fromkeys(self.coverage)),
            topics=tuple(dict.fromkeys(self.topics)),
            capabilities=frozenset(self.capabilities),
            languages=tuple(dict.fromkeys(self.languages)),
            eligibility=Eligibility(
                self.minimum_age, self.maximum_age, frozenset(self.genders), self.residency
            ),
            schedules=tuple(s.to_rule() for s in self.schedules),
            **more,
        )


class OrganisationIn(ServiceFields):
    name: OrganisationName = Field(description="The organisation's public name.")
    org_type: OrgType
    webhook_url: HttpUrl | None = Field(default=None, description="Where notify delivers handoffs.")
    email: Email | None = Field(default=None, description="The organisation's alert mailbox.")
    active: bool = Field(default=True, description="Inactive organisations are never matched.")
    description: Description | None = None
    alternate_name: OrganisationName | None = None
    website: HttpUrl | None = None
    corporate_number: CorporateNumber | None = Field(default=None, description="法人番号 (13 digits)")
    channels: list[Channel] = Field(
        default_factory=list, description="How it wants handoff alerts; empty: from the addresses given."
    )
    portal_url: HttpUrl | None = None

    def to_domain(self, organisation_id: uuid.UUID) -> tuple[Organisation, Service]:
        organisation = Organisation(
            id=organisation_id,
            name=self.name,
            org_type=self.org_type,
            webhook_url=str(self.webhook_url) if self.webhook_url else None,
            email=self.email,
            active=self.active,
            description=self.description,
            alternate_name=self.alternate_name,
            website=str(self.website) if self.website else None,
            corporate_number=self.corporate_number,
            channels=tuple(dict.fromkeys(self.channels)),
            portal_url=str(self.portal_url) if self.portal_url else None,
        )
        # The fields of the body beyond the organisation's own describe its main service,
        # which shares the organisation's id.
        return organisation, self._service(organisation_id, organisation_id, self.name)


class CapacityOut(BaseModel):
    available: int
    maximum: int | None
    unit: str
    description: str | None
    updated: datetime
    reported_at: datetime


class ServiceOut(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    description: str | None
    status: ServiceStatus
    coverage: list[str]
    topics: list[Topic]
    capabilities: list[Capability]
    languages: list[str]
    minimum_age: int | None
    maximum_age: int | None
    genders: list[Gender]
    residency: Residency
    schedules: list[hsds.ScheduleIO]
    capacity: CapacityOut | None

    @classmethod
    def of(cls, s: Service) -> "ServiceOut":
        c = s.capacity
        return cls(
            id=s.id,
            organization_id=s.organisation_id,
            name=s.name,
            description=s.description,
            status=s.status,
            coverage=list(s.coverage),
            topics=list(s.topics),
            capabilities=sorted(s.capabilities),
            languages=list(s.languages),
            minimum_age=s.eligibility.minimum_age,
            maximum_age=s.eligibility.maximum_age,
            genders=sorted(s.eligibility.genders),
            residency=s.eligibility.residency,
            schedules=[hsds.ScheduleIO.of(s.id, i, r) for i, r in enumerate(s.schedules)],
            capacity=CapacityOut(
                available=c.available,
                maximum=c.maximum,
                unit=c.unit,
                description=c.description,
                updated=c.updated,
                reported_at=c.reported_at,
            )
            if c
            else None,
        )


class OrganisationOut(BaseModel):
    id: uuid.UUID
    name: str
    org_type: OrgType
    coverage: list[str] = Field(description="The main service's area (or all services' when it has none).")
    topics: list[Topic]
    webhook_url: str | None
    email: str | None
    active: bool
    description: str | None
    alternate_name: str | None
    website: str | None
    corporate_number: str | None
    channels: list[Channel] = Field(description="How handoff alerts reach it.")
    portal_url: str | None
    public_body: bool = Field(description="Closed on national holidays and 12/29–1/3 (行政機関の休日).")
    services: list[ServiceOut]
    created_at: datetime
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, record: OrganisationRecord) -> "OrganisationOut":
        o = record.organisation
        main = record.main_service
        if main is not None:
            coverage, topics = list(main.coverage), list(main.topics)
        else:
            coverage = list(dict.fromkeys(e for s in record.services for e in s.coverage))
            every = any(not s.topics for s in record.services)
            topics = [] if every else list(dict.fromkeys(t for s in record.services for t in s.topics))
        return cls(
            id=o.id,
            name=o.name,
            org_type=o.org_type,
            coverage=coverage,
            topics=topics,
            webhook_url=o.webhook_url,
            email=o.email,
            active=o.active,
            description=o.description,
            alternate_name=o.alternate_name,
            website=o.website,
            corporate_number=o.corporate_number,
            channels=list(o.alert_channels),
            portal_url=o.portal_url,
            public_body=o.public_body,
            services=[ServiceOut.of(s) for s in record.services],
            created_at=record.created_at,
            updated_at=record.updated_at,
            updated_by=record.updated_by,
        )


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """HSDS API paging: the page's entities in `contents`, with counts."""

    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    contents: list[T]

    @classmethod
    def of(cls, contents: list[T], *, total: int, page: int, per_page: int) -> "Page[T]":
        pages = max(1, math.ceil(total / per_page))
        return cls(
            total_items=total,
            total_pages=pages,
            page_number=page,
            size=len(contents),
            first_page=page == 1,
            last_page=page >= pages,
            empty=not contents,
            contents=contents,
        )


PageNumber = Annotated[int, Query(ge=1, le=100_000, description="1-based")]
PerPage = Annotated[int, Query(ge=1, le=500)]

# ---- organisations ----------------------------------------------------------------------------


@router.put(
    "/organisations/{organisation_id}",
    status_code=201,
    response_model=OrganisationOut,
    tags=["organisations"],
    summary="Register or replace an organisation (and its main service) under a known id",
    description="201 when it was created, 200 when an existing one was replaced (every field but capacity).",
)
async def put_organisation(
    organisation_id: uuid.UUID, body: OrganisationIn, principal: Operator, pool: Pool, response: Response
) -> OrganisationOut:
    organisation, main = body.to_domain(organisation_id)
    record, created = await service.put_organisation(
        pool, principal=principal, organisation=organisation, main_service=main
    )
    if not created:
        response.status_code = 200
    return OrganisationOut.of(record)


@router.post(
    "/organisations",
    status_code=201,
    response_model=OrganisationOut,
    tags=["organisations"],
    summary="Register an organisation under a new id",
)
async def create_organisation(
    body: OrganisationIn, principal: Operator, pool: Pool, response: Response
) -> OrganisationOut:
    organisation, main = body.to_domain(uuid.uuid4())
    record, _ = await service.put_organisation(
        pool, principal=principal, organisation=organisation, main_service=main
    )
    response.headers["Location"] = f"/v1/organisations/{record.organisation.id}"
    return OrganisationOut.of(record)


@router.get(
    "/organisations",
    response_model=list[OrganisationOut],
    tags=["organisations"],
    summary="List organisations by name",
)
async def list_organisations(
    _: Staff,
    pool: Pool,
    context: Ctx,
    municipality_code: Annotated[
        MunicipalityCode | None,
        Query(description="Only those with a service reaching it (exactly, its city, prefecture, or JP)."),
    ] = None,
    topic: Annotated[Topic | None, Query(description="Only those that take this topic.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OrganisationOut]:
    found, _total = await service.list_organisations(
        pool,
        context=context,
        municipality_code=municipality_code,
        topic=topic,
        active=active,
        limit=limit,
        offset=offset,
    )
    return [OrganisationOut.of(record) for record in found]


@router.get(
    "/organisations/{organisation_id}",
    response_model=OrganisationOut,
    tags=["organisations"],
    summary="Read one organisation (a partner: only its own)",
)
async def get_organisation(organisation_id: uuid.UUID, principal: AnyRole, pool: Pool) -> OrganisationOut:
    record = await service.get_organisation(pool, principal=principal, organisation_id=organisation_id)
    return OrganisationOut.of(record)


@router.delete(
    "/organisations/{organisation_id}",
    status_code=204,
    tags=["organisations"],
    summary="Deactivate an organisation",
    description="Soft delete: it stays readable and keeps its past matches, but is never matched again.",
)
async def delete_organisation(organisation_id: uuid.UUID, principal: Operator, pool: Pool) -> Response:
    await service.deactivate_organisation(pool, principal=principal, organisation_id=organisation_id)
    return Response(status_code=204)


# ---- services and capacity --------------------------------------------------------------------


class ServiceIn(ServiceFields):
    organization_id: uuid.UUID
    name: OrganisationName
    description: Description | None = None
    status: ServiceStatus = ServiceStatus.ACTIVE

    def to_domain(self, service_id: uuid.UUID) -> Service:
        return self._service(
            service_id, self.organization_id, self.name, status=self.status, description=self.description
        )


@router.put(
    "/services/{service_id}",
    status_code=201,
    response_model=ServiceOut,
    tags=["services"],
    summary="Register or replace a service (a partner: only its own organisation's)",
    description="201 created, 200 replaced. Capacity is kept: it changes through /capacity and handoffs.",
)
async def put_service(
    service_id: uuid.UUID, body: ServiceIn, principal: Editor, pool: Pool, response: Response
) -> ServiceOut:
    saved, created = await service.put_service(pool, principal=principal, service=body.to_domain(service_id))
    if not created:
        response.status_code = 200
    return ServiceOut.of(saved)


@router.get(
    "/services/{service_id}", response_model=ServiceOut, tags=["services"], summary="Read one service"
)
async def get_service(service_id: uuid.UUID, principal: AnyRole, pool: Pool) -> ServiceOut:
    return ServiceOut.of(await service.get_service(pool, principal=principal, service_id=service_id))


@router.delete(
    "/services/{service_id}", status_code=204, tags=["services"], summary="Set a service's status to inactive"
)
async def delete_service(service_id: uuid.UUID, principal: Operator, pool: Pool) -> Response:
    await service.deactivate_service(pool, principal=principal, service_id=service_id)
    return Response(status_code=204)


@router.get(
    "/services",
    response_model=Page[ServiceOut],
    tags=["hsds"],
    summary="HSDS: services, by area, organisation or taxonomy term",
)
async def list_services(
    _: Staff,
    pool: Pool,
    context: Ctx,
    municipality_code: Annotated[MunicipalityCode | None, Query()] = None,
    organization_id: Annotated[uuid.UUID | None, Query()] = None,
    taxonomy_term_id: Annotated[uuid.UUID | None, Query(description="A topic or capability term.")] = None,
    search: Annotated[str | None, Query(max_length=100)] = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
) -> Page[ServiceOut]:
    term = _term_code(taxonomy_term_id)
    found, total = await service.list_services(
        pool,
        context=context,
        municipality_code=municipality_code,
        organisation_id=organization_id,
        term=term,
        search=search,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    return Page[ServiceOut].of([ServiceOut.of(s) for s in found], total=total, page=page, per_page=per_page)


def _term_code(term_id: uuid.UUID | None) -> str | None:
    if term_id is None:
        return None
    term = taxonomy.TERMS_BY_ID.get(term_id)
    # An unknown term matches nothing rather than everything.
    return term.code if term else "-"


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    available: int = Field(ge=0, le=100_000, description="How many more referrals it can take now.")
    maximum: int | None = Field(default=None, ge=0, le=100_000)
    unit: Annotated[str, StringConstraints(min_length=1, max_length=50)] = "referrals"
    description: Description | None = None


@router.put(
    "/services/{service_id}/capacity",
    response_model=ServiceOut,
    tags=["services"],
    summary="Report a service's available capacity (HSDS service_capacity); a partner: its own",
)
async def report_capacity(
    service_id: uuid.UUID, body: CapacityIn, principal: Editor, pool: Pool, context: Ctx
) -> ServiceOut:
    saved = await service.report_capacity(
        pool,
        context=context,
        principal=principal,
        service_id=service_id,
        available=body.available,
        maximum=body.maximum,
        unit=body.unit,
        description=body.description,
    )
    return ServiceOut.of(saved)


# ---- locations and service_at_locations -------------------------------------------------------


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: uuid.UUID
    name: OrganisationName | None = None
    location_type: str = Field(default="physical", pattern="^(physical|postal|virtual)$")
    municipality_code: MunicipalityCode | None = None
    postal_code: PostalCode | None = None
    address: Annotated[str, StringConstraints(max_length=300)] | None = Field(
        default=None, description="The office's public address (never a person's)."
    )
    latitude: float | None = Field(default=None, ge=20, le=46)
    longitude: float | None = Field(default=None, ge=122, le=154)
    service_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)

    def to_domain(self, location_id: uuid.UUID) -> Location:
        return Location(
            id=location_id,
            organisation_id=self.organization_id,
            name=self.name,
            location_type=self.location_type,
            municipality_code=self.municipality_code,
            postal_code=self.postal_code,
            address=self.address,
            latitude=self.latitude,
            longitude=self.longitude,
            service_ids=tuple(sorted(set(self.service_ids))),
        )


@router.put(
    "/locations/{location_id}",
    response_model=hsds.LocationIO,
    tags=["services"],
    summary="Register or replace an organisation's office and the services offered there",
)
async def put_location(
    location_id: uuid.UUID, body: LocationIn, principal: Operator, pool: Pool
) -> hsds.LocationIO:
    saved = await service.put_location(pool, principal=principal, location=body.to_domain(location_id))
    return hsds.location_to_hsds(saved)


class ServiceAtLocationOut(BaseModel):
    id: uuid.UUID
    service_id: uuid.UUID
    location_id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    service_name: str
    location: hsds.LocationIO
    distance_m: float | None = Field(description="From the search's point, when it has one.")


@router.get(
    "/service_at_locations",
    response_model=Page[ServiceAtLocationOut],
    tags=["hsds"],
    summary="HSDS: services at their offices, by municipality or postal code, optionally by proximity",
    description=(
        "With `municipality_code` or `postcode` alone: offices in that municipality (a designated city "
        "includes its wards). With `proximity` (metres): offices within that distance of the point — "
        "`latitude`/`longitude` if given, else the municipality's reference point (its office; no "
        "offline source has postal-code centroids) — nearest first."
    ),
)
async def service_at_locations(
    _: Staff,
    pool: Pool,
    context: Ctx,
    municipality_code: Annotated[MunicipalityCode | None, Query()] = None,
    postcode: Annotated[PostalCode | None, Query(description="7 digits, e.g. 100-0001")] = None,
    proximity: Annotated[float | None, Query(gt=0, le=500_000, description="Metres")] = None,
    latitude: Annotated[float | None, Query(ge=20, le=46)] = None,
    longitude: Annotated[float | None, Query(ge=122, le=154)] = None,
    organization_id: Annotated[uuid.UUID | None, Query()] = None,
    taxonomy_term_id: Annotated[uuid.UUID | None, Query()] = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
) -> Page[ServiceAtLocationOut]:
    place = service.place_of(
        context.geography,
        municipality_code=municipality_code,
        postal_code=postcode,
        latitude=latitude,
        longitude=longitude,
    )
    if proximity is not None and (place is None or place.point is None):
        raise service._invalid(
            "query.proximity", "needs latitude/longitude, a municipality_code or a postcode"
        )
    found = await service.search_service_at_locations(
        pool,
        context=context,
        place=place,
        proximity_m=proximity,
        organisation_id=organization_id,
        term=_term_code(taxonomy_term_id),
    )
    window = found[(page - 1) * per_page : page * per_page]
    contents = [
        ServiceAtLocationOut(
            id=sal.id,
            service_id=sal.service.id,
            location_id=sal.location.id,
            organization_id=sal.service.organisation_id,
            organization_name=sal.organisation_name,
            service_name=sal.service.name,
            location=hsds.location_to_hsds(sal.location),
            distance_m=round(distance, 1) if distance is not None else None,
        )
        for sal, distance in window
    ]
    return Page[ServiceAtLocationOut].of(contents, total=len(found), page=page, per_page=per_page)


# ---- HSDS organizations, taxonomies, import and export ----------------------------------------


@router.get(
    "/organizations",
    response_model=Page[hsds.OrganizationIO],
    tags=["hsds"],
    summary="HSDS: organizations, fully nested",
)
async def hsds_organizations(
    _: Staff,
    pool: Pool,
    context: Ctx,
    search: Annotated[str | None, Query(max_length=100)] = None,
    municipality_code: Annotated[MunicipalityCode | None, Query()] = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
) -> Page[hsds.OrganizationIO]:
    found, total = await service.list_organisations(
        pool,
        context=context,
        municipality_code=municipality_code,
        topic=None,
        active=None,
        search=search,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    exported = await service.export_hsds(pool, organisation_ids=[r.organisation.id for r in found])
    return Page[hsds.OrganizationIO].of(exported.organizations, total=total, page=page, per_page=per_page)


@router.get(
    "/organizations/{organisation_id}",
    response_model=hsds.OrganizationIO,
    tags=["hsds"],
    summary="HSDS: one organization, fully nested (a partner: only its own)",
)
async def hsds_organization(
    organisation_id: uuid.UUID, principal: AnyRole, pool: Pool
) -> hsds.OrganizationIO:
    await service.get_organisation(pool, principal=principal, organisation_id=organisation_id)
    exported = await service.export_hsds(pool, organisation_ids=[organisation_id])
    return exported.organizations[0]


class TaxonomyOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    version: str


@router.get("/taxonomies", response_model=Page[TaxonomyOut], tags=["hsds"], summary="HSDS: taxonomies")
async def taxonomies(_: AnyRole) -> Page[TaxonomyOut]:
    contents = [
        TaxonomyOut(id=t.id, name=t.name, description=t.description, version=t.version)
        for t in taxonomy.TAXONOMIES
    ]
    return Page[TaxonomyOut].of(contents, total=len(contents), page=1, per_page=max(1, len(contents)))


@router.get(
    "/taxonomy_terms",
    response_model=Page[hsds.TaxonomyTermOut],
    tags=["hsds"],
    summary="HSDS: taxonomy terms",
)
async def taxonomy_terms(
    _: AnyRole,
    taxonomy_id: Annotated[uuid.UUID | None, Query()] = None,
    search: Annotated[str | None, Query(max_length=100)] = None,
    top_only: Annotated[bool, Query(description="Every term is top-level: the taxonomies are flat.")] = False,
    page: PageNumber = 1,
    per_page: PerPage = 100,
) -> Page[hsds.TaxonomyTermOut]:
    terms = [
        hsds.term_out(t)
        for t in taxonomy.TERMS
        if (taxonomy_id is None or t.taxonomy.id == taxonomy_id)
        and (not search or search in t.name or search.upper() in t.code.upper())
    ]
    window = terms[(page - 1) * per_page : page * per_page]
    return Page[hsds.TaxonomyTermOut].of(window, total=len(terms), page=page, per_page=per_page)


class ImportOut(BaseModel):
    organizations: int
    services: int
    locations: int
    created: int = Field(description="Organizations that were new.")
    changed_fields: int = Field(
        description="Fields that differed (0 when the same document is imported again)."
    )


@router.post(
    "/hsds/import",
    response_model=ImportOut,
    tags=["hsds"],
    summary="Import HSDS 3.0 JSON: organizations with nested services and locations (all or nothing)",
)
async def hsds_import(body: hsds.RegisterIO, principal: Operator, pool: Pool, context: Ctx) -> ImportOut:
    summary = await service.import_hsds(pool, principal=principal, register=body, now=context.clock())
    return ImportOut(**summary.__dict__)


@router.get(
    "/hsds/export",
    response_model=hsds.RegisterIO,
    tags=["hsds"],
    summary="Export the whole register as HSDS 3.0 JSON (what /hsds/import reads)",
)
async def hsds_export(_: Operator, pool: Pool) -> hsds.RegisterIO:
    return await service.export_hsds(pool)


# ---- geography ---------------------------------------------------------------------------------


class MunicipalityOut(BaseModel):
    code: str
    name: str
    kana: str
    kind: str = Field(description="city | designated_city | special_ward | ward | town | village")
    prefecture_code: str
    prefecture_name: str
    county: str | None
    city_code: str | None = Field(description="For a ward: its designated city.")
    city_name: str | None
    wards: list[str] = Field(description="For a designated city: its wards.")
    latitude: float
    longitude: float


def _municipality_out(context: service.Context, m: Municipality) -> MunicipalityOut:
    geography = context.geography
    city = geography.municipality(m.city_code) if m.city_code else None
    return MunicipalityOut(
        code=m.code,
        name=m.name,
        kana=m.kana,
        kind=m.kind.value,
        prefecture_code=m.prefecture_code,
        prefecture_name=geography.prefectures[m.prefecture_code].name,
        county=m.county or None,
        city_code=m.city_code,
        city_name=city.name if city else None,
        wards=list(geography.wards_of(m.code)),
        latitude=m.latitude,
        longitude=m.longitude,
    )


@router.get(
    "/municipalities",
    response_model=list[MunicipalityOut],
    tags=["geography"],
    summary="Municipalities and wards by name, reading (kana) or prefecture + name",
    description=(
        "Case-insensitive; hiragana matches the katakana reading. Names that start with `q` come "
        "before names that contain it, then by code. Wards are named with their city (大阪市北区)."
    ),
)
async def search_municipalities(
    _: AnyRole,
    context: Ctx,
    q: Annotated[str, Query(min_length=1, max_length=50, description="e.g. 千代田, ちよだ, 東京都千代田区")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[MunicipalityOut]:
    return [_municipality_out(context, m) for m in context.geography.search(q, limit)]


@router.get(
    "/municipalities/{code}",
    response_model=MunicipalityOut,
    tags=["geography"],
    summary="A municipality or ward",
)
async def municipality(code: MunicipalityCode, _: AnyRole, context: Ctx) -> MunicipalityOut:
    found = context.geography.municipality(code)
    if found is None:
        raise service._invalid("path.code", f"{code}: not a municipality in the geography")
    return _municipality_out(context, found)


@router.get(
    "/postal_codes/{postal_code}",
    response_model=list[MunicipalityOut],
    tags=["geography"],
    summary="The municipality (ward) of a postal code; a few codes span two",
)
async def postal_code(postal_code: PostalCode, _: AnyRole, context: Ctx) -> list[MunicipalityOut]:
    found = context.geography.by_postal_code(postal_code)
    if not found:
        raise service._invalid("path.postal_code", "no municipality has this postal code")
    return [_municipality_out(context, m) for m in found]


# ---- matching ----------------------------------------------------------------------------------


class MatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    municipality_code: CurrentMunicipalityCode
    severity: Severity
    need_tags: list[IssueTag] = Field(default_factory=list, max_length=len(IssueTag))
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: LanguageCode = "ja"
    at: AwareDatetime | None = Field(default=None, description="Match as of this time (default: now).")

    def to_domain(self) -> ReferralNeeds:
        return ReferralNeeds(
            topic=self.topic,
            municipality_code=self.municipality_code,
            severity=self.severity,
            need_tags=tuple(dict.fromkeys(self.need_tags)),
            age_band=self.age_band,
            gender=self.gender,
            language=self.language,
        )


class CandidateOut(BaseModel):
    rank: int
    tier: str = Field(description="municipality | city | prefecture | national")
    organisation_id: uuid.UUID
    service_id: uuid.UUID
    name: str
    org_type: OrgType
    reasons: list[str]
    open_now: bool | None = Field(description="null: its hours are unknown (none published).")
    next_opening: datetime | None = Field(description="Japan time, when closed now.")
    hours_basis: HoursBasis = Field(
        description="published | round_the_clock | public_office_default | unknown"
    )
    channels: list[Channel]


class ExcludedOut(BaseModel):
    organisation_id: uuid.UUID
    service_id: uuid.UUID | None
    reason: Exclusion = Field(
        description="inactive | unreachable | out_of_area | topic_not_handled | not_eligible | "
        "no_capacity | closed"
    )
    detail: str | None = Field(
        description="e.g. age, gender, language, webhook, 0/5, until 2026-01-05T08:30+09:00"
    )


class MatchOut(BaseModel):
    topic: Topic
    municipality_code: str
    severity: Severity
    at: datetime
    chosen_organisation_id: uuid.UUID | None = Field(description="Rank 1, or null if none can take it.")
    fallback: bool = Field(description="Only national organisations fit: operators are alerted.")
    eligible_count: int = Field(description="Eligible organisations; at most 10 are listed.")
    candidates: list[CandidateOut]
    excluded: list[ExcludedOut]
    unmatched_reasons: list[str] = Field(description="Why nobody was chosen; empty when matched.")

    @classmethod
    def of(cls, result: MatchResult, at: datetime) -> "MatchOut":
        needs = result.needs
        chosen = result.chosen
        return cls(
            topic=needs.topic,
            municipality_code=needs.municipality_code,
            severity=needs.severity,
            at=at.astimezone(JST),
            chosen_organisation_id=chosen.organisation.id if chosen else None,
            fallback=result.fallback,
            eligible_count=result.eligible_count,
            candidates=[
                CandidateOut(
                    rank=c.rank,
                    tier=c.tier.value,
                    organisation_id=c.organisation.id,
                    service_id=c.service.id,
                    name=c.organisation.name,
                    org_type=c.organisation.org_type,
                    reasons=list(c.reasons),
                    open_now=c.open_state.open_now,
                    next_opening=c.open_state.next_opening,
                    hours_basis=c.open_state.basis,
                    channels=list(c.organisation.alert_channels),
                )
                for c in result.candidates
            ],
            excluded=[
                ExcludedOut(
                    organisation_id=e.organisation_id,
                    service_id=e.service_id,
                    reason=e.reason,
                    detail=e.detail,
                )
                for e in result.excluded
            ],
            unmatched_reasons=[] if chosen else list(result.unmatched_reasons()),
        )


@router.post(
    "/match",
    response_model=MatchOut,
    tags=["matching"],
    summary="Dry run: whom would a referral with these needs go to?",
    description="The ranked candidates and every excluded organisation with its reason. Nothing is stored.",
)
async def dry_run_match(body: MatchIn, _: Staff, pool: Pool, context: Ctx) -> MatchOut:
    at = body.at or context.clock()
    result = await service.dry_run(pool, context=context, needs=body.to_domain(), at=at)
    return MatchOut.of(result, at)
