"""Open Referral HSDS 3.0 JSON documents: nested organizations, as the import reads and the export writes.

Field names are the standard's (organization, service, location, service_at_location,
service_area, schedule, language, attribute with taxonomy_term, metadata, and 3.1's
service_capacity). Validation happens here, so an import is refused before anything is written;
`mapping.py` turns a document into the register's objects and back. What HSDS has no field for
travels in `attributes` linking to this register's taxonomy terms (`taxonomy.py`) or in
`x_tsunagu` objects, which other HSDS readers ignore.
"""

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

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
from directory.fields import Email, LanguageCode, Name, Phone, PostalCode
from directory.hsds import taxonomy
from directory.register.domain import (
    Channel,
    ServiceStatus,
    validate_age_range,
    validate_corporate_number,
    validate_coverage_entry,
)
from eventkit.text import Text

CORPORATE_NUMBER_SCHEME = "JP-CN"  # org-id.guide: Japan's 法人番号 (National Tax Agency)
LG_CODE = "jp-lg-code"  # 全国地方公共団体コード, as a location's external identifier
JST_OFFSET_HOURS = 9

CoverageEntry = Annotated[str, AfterValidator(validate_coverage_entry)]
MunicipalityCode = Annotated[str, AfterValidator(validate_municipality_code)]
Clock = Annotated[str, StringConstraints(pattern=r"^\d{1,2}:\d{2}(:\d{2})?$")]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s]+$")]


class _Model(BaseModel):
    # HSDS publishers add fields of their own profiles; unknown ones are ignored, not refused.
    model_config = ConfigDict(extra="ignore")


def child_id(parent: uuid.UUID, kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(parent, f"{kind}:{key}")


class TaxonomyTermOut(_Model):
    id: uuid.UUID
    code: Text
    name: Text
    description: Text
    taxonomy: Text
    taxonomy_id: uuid.UUID


class AttributeIO(_Model):
    """A link from an organization or service to a taxonomy term (HSDS attribute)."""

    id: uuid.UUID | None = None
    link_id: uuid.UUID | None = None
    link_type: Text | None = None
    link_entity: Text | None = None
    taxonomy_term_id: uuid.UUID | None = None
    value: Text | None = None
    taxonomy_term: TaxonomyTermOut | None = None

    def term(self) -> taxonomy.Term | None:
        term_id = self.taxonomy_term_id or (self.taxonomy_term.id if self.taxonomy_term else None)
        return taxonomy.TERMS_BY_ID.get(term_id) if term_id else None


class MetadataOut(_Model):
    id: uuid.UUID
    resource_id: uuid.UUID
    resource_type: Text
    last_action_date: datetime | None
    last_action_type: Text
    field_name: Text
    previous_value: Text
    replacement_value: Text
    updated_by: Text


class ScheduleIO(_Model):
    id: uuid.UUID | None = None
    freq: Literal["WEEKLY"] = "WEEKLY"
    byday: Text = Field(description="Comma-separated MO,TU,WE,TH,FR,SA,SU", examples=["MO,TU,WE,TH,FR"])
    opens_at: Clock = Field(examples=["09:00"], description="Japan time; 24:00 allowed for closes_at")
    closes_at: Clock = Field(examples=["17:00"])
    valid_from: date | None = None
    valid_to: date | None = None
    timezone: float | None = Field(default=JST_OFFSET_HOURS, description="UTC offset; only +9 is taken")
    description: Text | None = Field(default=None, max_length=500)

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
            id=child_id(service_id, "schedule", str(index)),
            byday=",".join(d.value for d in Weekday if d in rule.days),
            opens_at=format_clock(rule.opens),
            closes_at=format_clock(rule.closes),
            valid_from=rule.valid_from,
            valid_to=rule.valid_to,
            description=rule.description,
        )


class ServiceAreaIO(_Model):
    id: uuid.UUID | None = None
    name: Text | None = None
    extent: CoverageEntry = Field(description="Municipality code (6 digits), prefecture (2) or JP")
    extent_type: Literal["text"] = "text"


class LanguageIO(_Model):
    id: uuid.UUID | None = None
    name: Text | None = None
    code: LanguageCode = Field(description="ISO 639-1 code, e.g. ja, en, vi")


class UnitIO(_Model):
    id: uuid.UUID | None = None
    name: Text = "referrals"
    scheme: Text | None = None


class CapacityExtension(_Model):
    reported_at: AwareDatetime | None = None


class ServiceCapacityIO(_Model):
    id: uuid.UUID | None = None
    available: int = Field(ge=0, le=100_000)
    maximum: int | None = Field(default=None, ge=0, le=100_000)
    unit: UnitIO = Field(default_factory=UnitIO)
    updated: AwareDatetime
    description: Text | None = Field(default=None, max_length=500)
    x_tsunagu: CapacityExtension | None = None


class ServiceAtLocationIO(_Model):
    id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None
    location_id: uuid.UUID


class ServiceIO(_Model):
    id: uuid.UUID
    organization_id: uuid.UUID | None = None
    name: Name
    description: Text | None = Field(default=None, max_length=4000)
    status: ServiceStatus = ServiceStatus.ACTIVE
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    service_areas: list[ServiceAreaIO] = Field(min_length=1, max_length=500)
    languages: list[LanguageIO] = Field(default_factory=list, max_length=50)
    schedules: list[ScheduleIO] = Field(default_factory=list, max_length=50)
    service_capacity: list[ServiceCapacityIO] = Field(default_factory=list, max_length=1)
    attributes: list[AttributeIO] = Field(default_factory=list, max_length=200)
    service_at_locations: list[ServiceAtLocationIO] = Field(default_factory=list, max_length=100)
    # HSDS 3.0: the date the service's information was last checked (Japan's date of the
    # organisation's last confirmation; x_tsunagu.last_verified_at has the instant).
    assured_date: date | None = None
    metadata: list[MetadataOut] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ages(self) -> "ServiceIO":
        validate_age_range(self.minimum_age, self.maximum_age)
        return self


class AddressIO(_Model):
    id: uuid.UUID | None = None
    address_1: Text = Field(max_length=300)
    city: Text | None = None
    region: Text | None = None
    state_province: Text | None = None
    postal_code: PostalCode | None = None
    country: Text = "JP"
    address_type: Text = "physical"


class LocationIO(_Model):
    id: uuid.UUID
    location_type: Literal["physical", "postal", "virtual"] = "physical"
    organization_id: uuid.UUID | None = None
    name: Text | None = Field(default=None, max_length=200)
    latitude: float | None = Field(default=None, ge=20, le=46)  # Japan's extent
    longitude: float | None = Field(default=None, ge=122, le=154)
    external_identifier: MunicipalityCode | None = Field(default=None, description="Municipality code")
    external_identifier_type: Text | None = LG_CODE
    addresses: list[AddressIO] = Field(default_factory=list, max_length=5)


class PhoneIO(_Model):
    """HSDS 3.0 phone: the organisation's desk, which operators call when a handoff fails."""

    id: uuid.UUID | None = None
    number: Phone
    type: Text | None = "voice"


class OrganizationIdentifierIO(_Model):
    id: uuid.UUID | None = None
    identifier_scheme: Text
    identifier_type: Text | None = None
    identifier: Text


class OrganizationExtension(_Model):
    active: bool = True
    webhook_url: Url | None = None
    portal_url: Url | None = None
    channels: list[Channel] = Field(default_factory=list)
    last_verified_at: AwareDatetime | None = Field(
        default=None, description="When a person last confirmed the entry with the organisation."
    )
    last_verified_by: Text | None = Field(default=None, max_length=200)


class OrganizationIO(_Model):
    id: uuid.UUID
    name: Name
    description: Text = Field(default="", max_length=4000)
    alternate_name: Text | None = Field(default=None, max_length=200)
    email: Email | None = None
    website: Url | None = None
    phones: list[PhoneIO] = Field(default_factory=list, max_length=5)
    organization_identifiers: list[OrganizationIdentifierIO] = Field(default_factory=list, max_length=10)
    attributes: list[AttributeIO] = Field(default_factory=list, max_length=50)
    services: list[ServiceIO] = Field(default_factory=list, max_length=200)
    locations: list[LocationIO] = Field(default_factory=list, max_length=200)
    metadata: list[MetadataOut] = Field(default_factory=list)
    x_tsunagu: OrganizationExtension = Field(default_factory=OrganizationExtension)

    @model_validator(mode="after")
    def _consistent(self) -> "OrganizationIO":
        types = [t for t in self.terms_in(taxonomy.ORG_TYPE)]
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

    def terms_in(self, of: taxonomy.Taxonomy) -> list[taxonomy.Term]:
        return [t for a in self.attributes if (t := a.term()) is not None and t.taxonomy == of]


class RegisterIO(BaseModel):
    """An HSDS 3.0 JSON export: organizations with their nested services and locations."""

    model_config = ConfigDict(extra="ignore")
    organizations: list[OrganizationIO] = Field(max_length=50_000)
