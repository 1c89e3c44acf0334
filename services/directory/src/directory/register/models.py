"""The register's HTTP request and response models: bodies in → domain objects, domain objects → JSON."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

from contracts.municipality import MunicipalityCode
from contracts.vocabulary import Gender, Topic
from directory.fields import Email, LanguageCode, Phone, PostalCode
from directory.fields import Name as OrganisationName
from directory.hsds.models import ScheduleIO
from directory.register.domain import (
    Capability,
    Capacity,
    Channel,
    Eligibility,
    Location,
    Organisation,
    OrganisationRecord,
    OrgType,
    Residency,
    Service,
    ServiceStatus,
    validate_age_range,
    validate_corporate_number,
    validate_coverage_entry,
)
from eventkit.text import check_line, check_text

CoverageEntry = Annotated[
    str,
    Field(
        description="6-digit municipality code, 2-digit prefecture code (01–47) or 'JP' (national)",
        examples=["131041", "13", "JP"],
    ),
    AfterValidator(validate_coverage_entry),
]
CorporateNumber = Annotated[str, AfterValidator(validate_corporate_number)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=4000), AfterValidator(check_text)
]


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
    schedules: list[ScheduleIO] = Field(
        default_factory=list, max_length=50, description="Weekly hours in Japan time; empty: not published."
    )

    @model_validator(mode="after")
    def _ages_in_order(self) -> "ServiceFields":
        # Checked while the body is read, so that it is a 422 naming the field, never a 500.
        validate_age_range(self.minimum_age, self.maximum_age)
        return self

    def _service(self, service_id: uuid.UUID, organisation_id: uuid.UUID, name: str, **more: Any) -> Service:
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
    phone: Phone | None = Field(default=None, description="The desk operators call, e.g. 03-1234-5678.")

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
            phone=self.phone,
        )
        # The fields of the body beyond the organisation's own describe its main service,
        # which shares the organisation's id.
        return organisation, self._service(organisation_id, organisation_id, self.name)


class CapacityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    schedules: list[ScheduleIO]
    capacity: CapacityOut | None

    @classmethod
    def of(cls, s: Service) -> "ServiceOut":
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
            schedules=[ScheduleIO.of(s.id, i, r) for i, r in enumerate(s.schedules)],
            capacity=CapacityOut.model_validate(s.capacity) if s.capacity else None,
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
    phone: str | None = Field(description="The desk operators call.")
    public_body: bool = Field(description="Closed on national holidays and 12/29–1/3 (行政機関の休日).")
    services: list[ServiceOut]
    created_at: datetime
    updated_at: datetime
    updated_by: str
    last_verified_at: datetime | None = Field(
        description="When a person last confirmed the entry with the organisation; null: never."
    )
    last_verified_by: str | None
    verification_stale: bool | None = Field(
        description="Not confirmed for longer than the register allows (or ever); null: not judged."
    )

    @classmethod
    def of(cls, record: OrganisationRecord) -> "OrganisationOut":
        """The organisation's own fields as they are; what the record knows around them."""
        o = record.organisation
        return cls.model_validate(
            {
                **vars(o),
                "coverage": record.coverage,
                "topics": record.topics,
                "channels": list(o.alert_channels),
                "public_body": o.public_body,
                "services": [ServiceOut.of(s) for s in record.services],
                "created_at": record.created_at,
                "updated_at": record.updated_at,
                "updated_by": record.updated_by,
                "last_verified_at": record.verified.at if record.verified else None,
                "last_verified_by": record.verified.by if record.verified else None,
                "verification_stale": record.stale,
            }
        )


class ServiceIn(ServiceFields):
    organization_id: uuid.UUID
    name: OrganisationName
    description: Description | None = None
    status: ServiceStatus = ServiceStatus.ACTIVE

    def to_domain(self, service_id: uuid.UUID) -> Service:
        return self._service(
            service_id, self.organization_id, self.name, status=self.status, description=self.description
        )


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    available: int = Field(ge=0, le=100_000, description="How many more referrals it can take now.")
    maximum: int | None = Field(default=None, ge=0, le=100_000)
    unit: Annotated[str, StringConstraints(min_length=1, max_length=50), AfterValidator(check_line)] = (
        "referrals"
    )
    description: Description | None = None

    def to_domain(self, now: datetime) -> Capacity:
        """The report, made `now`: the capacity's change, and the moment its staleness counts from."""
        return Capacity(updated=now, reported_at=now, **self.model_dump())


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: uuid.UUID
    name: OrganisationName | None = None
    location_type: str = Field(default="physical", pattern="^(physical|postal|virtual)$")
    municipality_code: MunicipalityCode | None = None
    postal_code: PostalCode | None = None
    address: Annotated[str, StringConstraints(max_length=300), AfterValidator(check_text)] | None = Field(
        default=None, description="The office's public address (never a person's)."
    )
    latitude: float | None = Field(default=None, ge=20, le=46)
    longitude: float | None = Field(default=None, ge=122, le=154)
    service_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)

    def to_domain(self, location_id: uuid.UUID) -> Location:
        # The office's fields carry over by name, but for HSDS's spelling of its organisation.
        return Location(
            id=location_id,
            organisation_id=self.organization_id,
            service_ids=tuple(sorted(set(self.service_ids))),
            **self.model_dump(exclude={"organization_id", "service_ids"}),
        )
