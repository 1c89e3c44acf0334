"""directory's answers as web reads them: organisations, their services' weekly hours, a search page,
the coverage map."""

from collections.abc import Sequence

from web.api import Answer, Endpoint, Id, Instant


class Schedule(Answer):
    byday: str  # MO,TU,…
    opens_at: str  # HH:MM, Japan time
    closes_at: str


class Service(Answer):
    schedules: list[Schedule]


class Capacity(Answer):
    available: int
    maximum: int | None
    updated: Instant


class ServiceRecord(Service):
    """A service as its organisation (or an operator) edits it: what may change, and what is sent
    back unchanged."""

    id: Id
    name: str
    status: str
    description: str | None
    coverage: list[str]
    topics: list[str]
    capabilities: list[str]
    languages: list[str]
    minimum_age: int | None
    maximum_age: int | None
    genders: list[str]
    residency: str
    capacity: Capacity | None


class Organisation(Answer):
    id: Id
    name: str
    org_type: str
    coverage: list[str]
    channels: list[str]
    phone: str | None
    public_body: bool
    services: Sequence[Service]
    active: bool
    last_verified_at: Instant | None  # None: never confirmed with the organisation
    verification_stale: bool | None


class OrganisationRecord(Organisation):
    """An organisation as an operator edits it, its services in full."""

    alternate_name: str | None
    corporate_number: str | None
    description: str | None
    website: str | None
    email: str | None
    webhook_url: str | None
    portal_url: str | None
    services: Sequence[ServiceRecord]


class OrganisationPage(Answer):
    """HSDS paging: one page of matches, and how many there are in all."""

    contents: list[Organisation]
    total_items: int
    total_pages: int


class CaseTemplate(Answer):
    """The case every place was matched with (its municipality aside)."""

    topic: str
    severity: str
    need_tags: list[str]
    age_band: str
    gender: str
    language: str


class PrefectureCoverage(Answer):
    code: str
    name: str
    places: int
    counts: dict[str, int]  # places per coverage class, every class
    shade: str


class PlaceCoverage(Answer):
    code: str
    name: str  # with its prefecture: 大阪府大阪市北区
    coverage: str
    organisation_id: Id | None
    organisation_name: str | None
    tier: str | None
    open_now: bool | None  # None: its hours are unknown (or nobody was chosen)
    open_until: Instant | None
    hours_basis: str | None


class CoverageMap(Answer):
    """Which places a case of one kind, at one hour, would reach an open organisation from."""

    at: Instant
    need: str
    needs: CaseTemplate
    places: int
    totals: dict[str, int]
    prefectures: list[PrefectureCoverage]
    municipalities: list[PlaceCoverage] | None  # the chosen prefecture's places


class Municipality(Answer):
    """A municipality or a designated city's ward, as the consultation form suggests it."""

    code: str
    name: str
    prefecture_name: str
    city_name: str | None  # for a ward: its designated city


# What web reads of directory, each answer in its model above.
ORGANISATION = Endpoint("directory", "/v1/organisations/{organisation_id}", Organisation)
REGISTER_ORGANISATION = Endpoint("directory", "/v1/organisations", Organisation, method="POST")
ORGANISATION_RECORD = Endpoint("directory", "/v1/organisations/{organisation_id}", OrganisationRecord)
SERVICE = Endpoint("directory", "/v1/services/{service_id}", ServiceRecord)
ORGANISATION_SEARCH = Endpoint("directory", "/v1/organisations/search", OrganisationPage)
COVERAGE = Endpoint("directory", "/v1/coverage", CoverageMap)
MUNICIPALITIES = Endpoint("directory", "/v1/municipalities", list[Municipality])
MUNICIPALITY = Endpoint("directory", "/v1/municipalities/{code}", Municipality)
POSTAL_CODE = Endpoint("directory", "/v1/postal_codes/{postal_code}", list[Municipality])
