"""Open Referral HSDS 3.0 JSON in and out: nested organizations ⇄ the register's domain objects.

Field names are the standard's (organization, service, location, service_at_location,
service_area, schedule, language, attribute with taxonomy_term, metadata, and 3.1's
service_capacity). What HSDS has no field for is carried the HSDS way where it can be: org type,
topics, capabilities, eligible genders and residency are `attributes` linking to this register's
taxonomy terms (`directory.taxonomy`); 法人番号 is an `organization_identifiers` entry. The handoff
channels and the capacity report time have no HSDS home and travel in `x_tsunagu` objects, which
other HSDS readers ignore. Ids of nested rows are UUIDv5 of their parent and key, so an export of
the same register is byte-for-byte the same and an import → export round trip is lossless.
"""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from contracts.hours import Weekday, WeeklyRule, format_clock, parse_clock
from contracts.municipality import validate_municipality_code
from contracts.vocabulary import Gender, Topic
from directory import taxonomy
from directory.domain import (
    Capability,
    Capacity,
    Change,
    Channel,
    Eligibility,
    Location,
    Organisation,
    OrganisationRecord,
    OrgType,
    Residency,
    Service,
    ServiceStatus,
    validate_corporate_number,
    validate_coverage_entry,
)
from directory.geography import validate_postal_code

CORPORATE_NUMBER_SCHEME = "JP-CN"  # org-id.guide: Japan's 法人番号 (National Tax Agency)
LG_CODE = "jp-lg-code"  # 全国地方公共団体コード, as a location's external identifier
JST_OFFSET_HOURS = 9

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
CoverageEntry = Annotated[str, AfterValidator(validate_coverage_entry)]
MunicipalityCode = Annotated[str, AfterValidator(validate_municipality_code)]
PostalCode = Annotated[str, AfterValidator(validate_postal_code)]
Clock = Annotated[str, StringConstraints(pattern=r"^\d{1,2}:\d{2}(:\d{2})?$")]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s]+$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]


class _Model(BaseModel):
    # HSDS publishers add fields of their own profiles; unknown ones are ignored, not refused.
    model_config = ConfigDict(extra="ignore")


def _child(parent: uuid.UUID, kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(parent, f"{kind}:{key}")


class TaxonomyTermOut(_Model):
    id: uuid.UUID
    code: str
    name: str
    description: str
    taxonomy: str
    taxonomy_id: uuid.UUID


class AttributeIO(_Model):
    """A link from an organization or service to a taxonomy term (HSDS attribute)."""

    id: uuid.UUID | None = None
    link_id: uuid.UUID | None = None
    link_type: str | None = None
    link_entity: str | None = None
    taxonomy_term_id: uuid.UUID | None = None
    value: str | None = None
    taxonomy_term: TaxonomyTermOut | None = None

    def term(self) -> taxonomy.Term | None:
        term_id = self.taxonomy_term_id or (self.taxonomy_term.id if self.taxonomy_term else None)
        return taxonomy.TERMS_BY_ID.get(term_id) if term_id else None


def term_out(term: taxonomy.Term) -> TaxonomyTermOut:
    return TaxonomyTermOut(
        id=term.id,
        code=term.code,
        name=term.name,
        description=term.description,
        taxonomy=term.taxonomy.name,
        taxonomy_id=term.taxonomy.id,
    )


def _attribute(link_id: uuid.UUID, entity: str, link_type: str, term: taxonomy.Term) -> AttributeIO:
    return AttributeIO(
        id=_child(link_id, "attribute", f"{term.taxonomy.name}:{term.code}"),
        link_id=link_id,
        link_type=link_type,
        link_entity=entity,
        taxonomy_term_id=term.id,
        value=term.code,
        taxonomy_term=term_out(term),
    )


class MetadataOut(_Model):
    id: uuid.UUID
    resource_id: uuid.UUID
    resource_type: str
    last_action_date: datetime | None
    last_action_type: str
    field_name: str
    previous_value: str
    replacement_value: str
    updated_by: str


class ScheduleIO(_Model):
    id: uuid.UUID | None = None
    freq: Literal["WEEKLY"] = "WEEKLY"
    byday: str = Field(description="Comma-separated MO,TU,WE,TH,FR,SA,SU", examples=["MO,TU,WE,TH,FR"])
    opens_at: Clock = Field(examples=["09:00"], description="Japan time; 24:00 allowed for closes_at")
    closes_at: Clock = Field(examples=["17:00"])
    valid_from: date | None = None
    valid_to: date | None = None
    timezone: float | None = Field(default=JST_OFFSET_HOURS, description="UTC offset; only +9 is taken")
    description: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _valid(self) -> "ScheduleIO":
        if self.timezone is not None and self.timezone != JST_OFFSET_HOURS:
            raise ValueError("schedules are in Japan time (timezone 9)")
        self.to_rule()  # raises ValueError with the reason
        return self

    def to_rule(self) -> WeeklyRule:
        try:
            days = frozenset(Weekday(d.strip()) for d in self.byday.split(",") if d.strip())
        except ValueError:
            raise ValueError("byday lists MO, TU, WE, TH, FR, SA, SU separated by commas") from None
        return WeeklyRule(
            days,
            parse_clock(self.opens_at),
            parse_clock(self.closes_at),
            self.valid_from,
            self.valid_to,
            self.description,
        )

    @classmethod
    def of(cls, service_id: uuid.UUID, index: int, rule: WeeklyRule) -> "ScheduleIO":
        return cls(
            id=_child(service_id, "schedule", str(index)),
            byday=",".join(d.value for d in Weekday if d in rule.days),
            opens_at=format_clock(rule.opens),
            closes_at=format_clock(rule.closes),
            valid_from=rule.valid_from,
            valid_to=rule.valid_to,
            description=rule.description,
        )


class ServiceAreaIO(_Model):
    id: uuid.UUID | None = None
    name: str | None = None
    extent: CoverageEntry = Field(description="Municipality code (6 digits), prefecture (2) or JP")
    extent_type: Literal["text"] = "text"


class LanguageIO(_Model):
    id: uuid.UUID | None = None
    name: str | None = None
    code: LanguageCode = Field(description="ISO 639-1 code, e.g. ja, en, vi")


class UnitIO(_Model):
    id: uuid.UUID | None = None
    name: str = "referrals"
    scheme: str | None = None


class CapacityExtension(_Model):
    reported_at: AwareDatetime | None = None


class ServiceCapacityIO(_Model):
    id: uuid.UUID | None = None
    available: int = Field(ge=0, le=100_000)
    maximum: int | None = Field(default=None, ge=0, le=100_000)
    unit: UnitIO = Field(default_factory=UnitIO)
    updated: AwareDatetime
    description: str | None = Field(default=None, max_length=500)
    x_tsunagu: CapacityExtension | None = None


class ServiceAtLocationIO(_Model):
    id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None
    location_id: uuid.UUID


class ServiceIO(_Model):
    id: uuid.UUID
    organization_id: uuid.UUID | None = None
    name: Name
    description: str | None = Field(default=None, max_length=4000)
    status: ServiceStatus = ServiceStatus.ACTIVE
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    service_areas: list[ServiceAreaIO] = Field(min_length=1, max_length=500)
    languages: list[LanguageIO] = Field(default_factory=list, max_length=50)
    schedules: list[ScheduleIO] = Field(default_factory=list, max_length=50)
    service_capacity: list[ServiceCapacityIO] = Field(default_factory=list, max_length=1)
    attributes: list[AttributeIO] = Field(default_factory=list, max_length=200)
    service_at_locations: list[ServiceAtLocationIO] = Field(default_factory=list, max_length=100)
    metadata: list[MetadataOut] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ages(self) -> "ServiceIO":
        if (
            self.minimum_age is not None
            and self.maximum_age is not None
            and self.minimum_age > self.maximum_age
        ):
            raise ValueError("minimum_age is above maximum_age")
        return self


class AddressIO(_Model):
    id: uuid.UUID | None = None
    address_1: str = Field(max_length=300)
    city: str | None = None
    region: str | None = None
    state_province: str | None = None
    postal_code: PostalCode | None = None
    country: str = "JP"
    address_type: str = "physical"


class LocationIO(_Model):
    id: uuid.UUID
    location_type: Literal["physical", "postal", "virtual"] = "physical"
    organization_id: uuid.UUID | None = None
    name: str | None = Field(default=None, max_length=200)
    latitude: float | None = Field(default=None, ge=20, le=46)  # Japan's extent
    longitude: float | None = Field(default=None, ge=122, le=154)
    external_identifier: MunicipalityCode | None = Field(default=None, description="Municipality code")
    external_identifier_type: str | None = LG_CODE
    addresses: list[AddressIO] = Field(default_factory=list, max_length=5)


class OrganizationIdentifierIO(_Model):
    id: uuid.UUID | None = None
    identifier_scheme: str
    identifier_type: str | None = None
    identifier: str


class OrganizationExtension(_Model):
    active: bool = True
    webhook_url: Url | None = None
    portal_url: Url | None = None
    channels: list[Channel] = Field(default_factory=list)


class OrganizationIO(_Model):
    id: uuid.UUID
    name: Name
    description: str = Field(default="", max_length=4000)
    alternate_name: str | None = Field(default=None, max_length=200)
    email: Email | None = None
    website: Url | None = None
    organization_identifiers: list[OrganizationIdentifierIO] = Field(default_factory=list, max_length=10)
    attributes: list[AttributeIO] = Field(default_factory=list, max_length=50)
    services: list[ServiceIO] = Field(default_factory=list, max_length=200)
    locations: list[LocationIO] = Field(default_factory=list, max_length=200)
    metadata: list[MetadataOut] = Field(default_factory=list)
    x_tsunagu: OrganizationExtension = Field(default_factory=OrganizationExtension)

    @model_validator(mode="after")
    def _consistent(self) -> "OrganizationIO":
        types = [t for t in self._terms(taxonomy.ORG_TYPE)]
        if len(types) != 1:
            raise ValueError("an organization has exactly one attribute from the tsunagu-org-type taxonomy")
        for identifier in self.organization_identifiers:
            if identifier.identifier_scheme == CORPORATE_NUMBER_SCHEME:
                validate_corporate_number(identifier.identifier)
        location_ids = {location.id for location in self.locations}
        for service in self.services:
            for link in service.service_at_locations:
                if link.location_id not in location_ids:
                    raise ValueError(f"service {service.id} is at location {link.location_id}, not listed")
        return self

    def _terms(self, of: taxonomy.Taxonomy) -> list[taxonomy.Term]:
        return [t for a in self.attributes if (t := a.term()) is not None and t.taxonomy == of]


class RegisterIO(BaseModel):
    """An HSDS 3.0 JSON export: organizations with their nested services and locations."""

    model_config = ConfigDict(extra="ignore")
    organizations: list[OrganizationIO] = Field(max_length=50_000)


def _service_terms(service: ServiceIO, of: taxonomy.Taxonomy) -> list[str]:
    return [t.code for a in service.attributes if (t := a.term()) is not None and t.taxonomy == of]


def from_hsds(org: OrganizationIO, *, now: datetime) -> tuple[Organisation, list[Service], list[Location]]:
    """One HSDS organization as the register's objects (validated already by the models)."""
    corporate = next(
        (
            i.identifier
            for i in org.organization_identifiers
            if i.identifier_scheme == CORPORATE_NUMBER_SCHEME
        ),
        None,
    )
    extension = org.x_tsunagu
    organisation = Organisation(
        id=org.id,
        name=org.name,
        org_type=OrgType(org._terms(taxonomy.ORG_TYPE)[0].code),
        webhook_url=extension.webhook_url,
        email=org.email,
        active=extension.active,
        description=org.description or None,
        alternate_name=org.alternate_name,
        website=org.website,
        corporate_number=corporate,
        channels=tuple(dict.fromkeys(extension.channels)),
        portal_url=extension.portal_url,
    )
    services = []
    for s in org.services:
        capacity = None
        if s.service_capacity:
            c = s.service_capacity[0]
            reported = c.x_tsunagu.reported_at if c.x_tsunagu and c.x_tsunagu.reported_at else c.updated
            capacity = Capacity(c.available, c.maximum, c.updated, reported, c.unit.name, c.description)
        residency = _service_terms(s, taxonomy.RESIDENCY)
        services.append(
            Service(
                id=s.id,
                organisation_id=org.id,
                name=s.name,
                coverage=tuple(dict.fromkeys(a.extent for a in s.service_areas)),
                topics=tuple(dict.fromkeys(Topic(t) for t in _service_terms(s, taxonomy.TOPIC))),
                capabilities=frozenset(Capability(c) for c in _service_terms(s, taxonomy.CAPABILITY)),
                languages=tuple(dict.fromkeys(lang.code for lang in s.languages)) or ("ja",),
                eligibility=Eligibility(
                    minimum_age=s.minimum_age,
                    maximum_age=s.maximum_age,
                    genders=frozenset(Gender(g) for g in _service_terms(s, taxonomy.GENDER)),
                    residency=Residency(residency[0]) if residency else Residency.ANY,
                ),
                schedules=tuple(rule.to_rule() for rule in s.schedules),
                capacity=capacity,
                status=s.status,
                description=s.description,
            )
        )
    at_location: dict[uuid.UUID, list[uuid.UUID]] = {}
    for s in org.services:
        for link in s.service_at_locations:
            at_location.setdefault(link.location_id, []).append(s.id)
    locations = []
    for loc in org.locations:
        address = loc.addresses[0] if loc.addresses else None
        locations.append(
            Location(
                id=loc.id,
                organisation_id=org.id,
                name=loc.name,
                location_type=loc.location_type,
                municipality_code=loc.external_identifier,
                postal_code=address.postal_code if address else None,
                address=address.address_1 if address else None,
                latitude=loc.latitude,
                longitude=loc.longitude,
                service_ids=tuple(sorted(set(at_location.get(loc.id, [])))),
            )
        )
    return organisation, services, locations


def _metadata(changes: list[Change]) -> list[MetadataOut]:
    return [
        MetadataOut(
            id=_child(c.resource_id, "metadata", f"{i}"),
            resource_id=c.resource_id,
            resource_type=c.resource_type,
            last_action_date=c.at,
            last_action_type=c.action,
            field_name=c.field_name,
            previous_value=c.previous_value,
            replacement_value=c.replacement_value,
            updated_by=c.updated_by,
        )
        for i, c in enumerate(changes)
    ]


def service_to_hsds(service: Service, locations: list[Location], changes: list[Change]) -> ServiceIO:
    sid = service.id
    attributes: list[AttributeIO] = [
        *(_attribute(sid, "service", "topic", taxonomy.term(taxonomy.TOPIC, t)) for t in service.topics),
        *(
            _attribute(sid, "service", "capability", taxonomy.term(taxonomy.CAPABILITY, c))
            for c in sorted(service.capabilities)
        ),
        *(
            _attribute(sid, "service", "eligibility", taxonomy.term(taxonomy.GENDER, g))
            for g in sorted(service.eligibility.genders)
        ),
    ]
    if service.eligibility.residency is not Residency.ANY:
        attributes.append(
            _attribute(
                sid,
                "service",
                "eligibility",
                taxonomy.term(taxonomy.RESIDENCY, service.eligibility.residency),
            )
        )
    capacity = []
    if service.capacity is not None:
        c = service.capacity
        capacity.append(
            ServiceCapacityIO(
                id=_child(sid, "service_capacity", "0"),
                available=c.available,
                maximum=c.maximum,
                unit=UnitIO(id=_child(sid, "unit", c.unit), name=c.unit),
                updated=c.updated,
                description=c.description,
                x_tsunagu=CapacityExtension(reported_at=c.reported_at),
            )
        )
    return ServiceIO(
        id=sid,
        organization_id=service.organisation_id,
        name=service.name,
        description=service.description,
        status=service.status,
        minimum_age=service.eligibility.minimum_age,
        maximum_age=service.eligibility.maximum_age,
        # Built without validation: an area stored before its code was abolished (a 2024 浜松 ward,
        # say) is exported as it is, so an operator can see and fix it; imports are validated.
        service_areas=[
            ServiceAreaIO.model_construct(id=_child(sid, "service_area", entry), name=None, extent=entry)
            for entry in service.coverage
        ],
        languages=[LanguageIO(id=_child(sid, "language", code), code=code) for code in service.languages],
        schedules=[ScheduleIO.of(sid, i, rule) for i, rule in enumerate(service.schedules)],
        service_capacity=capacity,
        attributes=attributes,
        service_at_locations=[
            ServiceAtLocationIO(id=uuid.uuid5(loc.id, str(sid)), service_id=sid, location_id=loc.id)
            for loc in locations
            if sid in loc.service_ids
        ],
        metadata=_metadata([c for c in changes if c.resource_id == sid]),
    )


def location_to_hsds(location: Location) -> LocationIO:
    addresses = []
    if location.address:
        addresses.append(
            AddressIO(
                id=_child(location.id, "address", "0"),
                address_1=location.address,
                postal_code=location.postal_code,
            )
        )
    return LocationIO(
        id=location.id,
        location_type=location.location_type,
        organization_id=location.organisation_id,
        name=location.name,
        latitude=location.latitude,
        longitude=location.longitude,
        external_identifier=location.municipality_code,
        external_identifier_type=LG_CODE if location.municipality_code else None,
        addresses=addresses,
    )


def to_hsds(record: OrganisationRecord, locations: list[Location], changes: list[Change]) -> OrganizationIO:
    o = record.organisation
    identifiers = []
    if o.corporate_number:
        identifiers.append(
            OrganizationIdentifierIO(
                id=_child(o.id, "identifier", CORPORATE_NUMBER_SCHEME),
                identifier_scheme=CORPORATE_NUMBER_SCHEME,
                identifier_type="法人番号",
                identifier=o.corporate_number,
            )
        )
    return OrganizationIO(
        id=o.id,
        name=o.name,
        description=o.description or "",
        alternate_name=o.alternate_name,
        email=o.email,
        website=o.website,
        organization_identifiers=identifiers,
        attributes=[
            _attribute(o.id, "organization", "org_type", taxonomy.term(taxonomy.ORG_TYPE, o.org_type))
        ],
        services=[
            service_to_hsds(s, locations, changes) for s in sorted(record.services, key=lambda s: s.id.int)
        ],
        locations=[location_to_hsds(loc) for loc in sorted(locations, key=lambda loc: loc.id.int)],
        metadata=_metadata([c for c in changes if c.resource_id == o.id]),
        x_tsunagu=OrganizationExtension(
            active=o.active, webhook_url=o.webhook_url, portal_url=o.portal_url, channels=list(o.channels)
        ),
    )


def without_metadata(document: dict[str, Any]) -> dict[str, Any]:
    """An export minus its provenance: what a round trip must keep (metadata is re-recorded)."""
    organizations = []
    for org in document["organizations"]:
        org = {k: v for k, v in org.items() if k != "metadata"}
        org["services"] = [{k: v for k, v in s.items() if k != "metadata"} for s in org["services"]]
        organizations.append(org)
    return {"organizations": organizations}
