"""HSDS 3.0 documents ⇄ the register's domain objects. Pure.

What HSDS has no field for travels the HSDS way where it can: org type, topics, capabilities,
eligible genders and residency as `attributes` linking to this register's taxonomy terms, 法人番号
as an `organization_identifiers` entry; the handoff channels and the capacity report time in
`x_tsunagu`, as does when a person last confirmed the entry (also the services' HSDS
`assured_date`). Nested ids are UUIDv5 of their parent and key (`models.child_id`), so an export of
the same register is byte-for-byte the same.
"""

import uuid
from datetime import datetime, time
from typing import Any

from contracts.hours import JST
from contracts.vocabulary import Gender, Topic
from directory.hsds import taxonomy
from directory.hsds.models import (
    CORPORATE_NUMBER_SCHEME,
    LG_CODE,
    AddressIO,
    AttributeIO,
    CapacityExtension,
    LanguageIO,
    LocationIO,
    MetadataOut,
    OrganizationExtension,
    OrganizationIdentifierIO,
    OrganizationIO,
    PhoneIO,
    ScheduleIO,
    ServiceAreaIO,
    ServiceAtLocationIO,
    ServiceCapacityIO,
    ServiceIO,
    TaxonomyTermOut,
    UnitIO,
    child_id,
)
from directory.register.changelog import Change
from directory.register.domain import (
    Capability,
    Capacity,
    Eligibility,
    Location,
    Organisation,
    OrganisationRecord,
    OrgType,
    Residency,
    Service,
    Verification,
)
from eventkit.build import from_attributes


def term_out(term: taxonomy.Term) -> TaxonomyTermOut:
    """The term's own fields, and its taxonomy's name and id."""
    return TaxonomyTermOut.model_validate(
        vars(term) | {"taxonomy": term.taxonomy.name, "taxonomy_id": term.taxonomy.id}
    )


def _attribute(link_id: uuid.UUID, entity: str, link_type: str, term: taxonomy.Term) -> AttributeIO:
    return AttributeIO(
        id=child_id(link_id, "attribute", f"{term.taxonomy.name}:{term.code}"),
        link_id=link_id,
        link_type=link_type,
        link_entity=entity,
        taxonomy_term_id=term.id,
        value=term.code,
        taxonomy_term=term_out(term),
    )


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
        org_type=OrgType(org.terms_in(taxonomy.ORG_TYPE)[0].code),
        webhook_url=extension.webhook_url,
        email=org.email,
        active=extension.active,
        description=org.description or None,
        alternate_name=org.alternate_name,
        website=org.website,
        corporate_number=corporate,
        channels=tuple(dict.fromkeys(extension.channels)),
        portal_url=extension.portal_url,
        phone=org.phones[0].number if org.phones else None,
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
        # The office's own fields by name (id, type, name, point), as location_to_hsds writes them;
        # the register's names for the others.
        locations.append(
            from_attributes(
                Location,
                loc,
                organisation_id=org.id,
                municipality_code=loc.external_identifier,
                postal_code=address.postal_code if address else None,
                address=address.address_1 if address else None,
                service_ids=tuple(sorted(set(at_location.get(loc.id, [])))),
            )
        )
    return organisation, services, locations


def verification_from_hsds(org: OrganizationIO, *, importer: str) -> Verification | None:
    """When the document says a person last confirmed the entry: `x_tsunagu`'s instant, else the
    latest of its services' HSDS `assured_date` (the start of that day in Japan)."""
    extension = org.x_tsunagu
    if extension.last_verified_at is not None:
        return Verification(extension.last_verified_at, extension.last_verified_by or importer)
    assured = [s.assured_date for s in org.services if s.assured_date is not None]
    if not assured:
        return None
    return Verification(datetime.combine(max(assured), time(0), JST), extension.last_verified_by or importer)


def _metadata(changes: list[Change]) -> list[MetadataOut]:
    """HSDS metadata: each change's own fields by name, its action and time as `last_action_*`."""
    return [
        MetadataOut.model_validate(
            vars(c)
            | {
                "id": child_id(c.resource_id, "metadata", f"{i}"),
                "last_action_date": c.at,
                "last_action_type": c.action,
            }
        )
        for i, c in enumerate(changes)
    ]


def service_to_hsds(
    service: Service,
    locations: list[Location],
    changes: list[Change],
    verified: Verification | None = None,
) -> ServiceIO:
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
                id=child_id(sid, "service_capacity", "0"),
                available=c.available,
                maximum=c.maximum,
                unit=UnitIO(id=child_id(sid, "unit", c.unit), name=c.unit),
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
            ServiceAreaIO.model_construct(id=child_id(sid, "service_area", entry), name=None, extent=entry)
            for entry in service.coverage
        ],
        languages=[LanguageIO(id=child_id(sid, "language", code), code=code) for code in service.languages],
        schedules=[ScheduleIO.of(sid, i, rule) for i, rule in enumerate(service.schedules)],
        service_capacity=capacity,
        attributes=attributes,
        service_at_locations=[
            ServiceAtLocationIO(id=uuid.uuid5(loc.id, str(sid)), service_id=sid, location_id=loc.id)
            for loc in locations
            if sid in loc.service_ids
        ],
        assured_date=verified.at.astimezone(JST).date() if verified else None,
        metadata=_metadata([c for c in changes if c.resource_id == sid]),
    )


def location_to_hsds(location: Location) -> LocationIO:
    addresses = []
    if location.address:
        addresses.append(
            AddressIO(
                id=child_id(location.id, "address", "0"),
                address_1=location.address,
                postal_code=location.postal_code,
            )
        )
    # The office's own fields by name (id, type, name, point); HSDS's names for the others.
    return LocationIO.model_validate(
        vars(location)
        | {
            "organization_id": location.organisation_id,
            "external_identifier": location.municipality_code,
            "external_identifier_type": LG_CODE if location.municipality_code else None,
            "addresses": addresses,
        }
    )


def to_hsds(record: OrganisationRecord, locations: list[Location], changes: list[Change]) -> OrganizationIO:
    o = record.organisation
    identifiers = []
    if o.corporate_number:
        identifiers.append(
            OrganizationIdentifierIO(
                id=child_id(o.id, "identifier", CORPORATE_NUMBER_SCHEME),
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
        phones=[PhoneIO(id=child_id(o.id, "phone", "desk"), number=o.phone)] if o.phone else [],
        organization_identifiers=identifiers,
        attributes=[
            _attribute(o.id, "organization", "org_type", taxonomy.term(taxonomy.ORG_TYPE, o.org_type))
        ],
        services=[
            service_to_hsds(s, locations, changes, record.verified)
            for s in sorted(record.services, key=lambda s: s.id.int)
        ],
        locations=[location_to_hsds(loc) for loc in sorted(locations, key=lambda loc: loc.id.int)],
        metadata=_metadata([c for c in changes if c.resource_id == o.id]),
        x_tsunagu=OrganizationExtension(
            active=o.active,
            webhook_url=o.webhook_url,
            portal_url=o.portal_url,
            channels=list(o.channels),
            last_verified_at=record.verified.at if record.verified else None,
            last_verified_by=record.verified.by if record.verified else None,
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
