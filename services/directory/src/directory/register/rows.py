"""How the register's rows read as domain objects and back: the column lists and mappers.

Shared by every repository of directory that reads organisations, services or locations (the
register's own, matching's listings, HSDS's searches), so that a column is mapped in one place.
Only fragments of SQL live here; the queries are in the repositories.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from contracts.vocabulary import Gender, Topic
from directory.register.domain import (
    Capability,
    Capacity,
    Channel,
    Eligibility,
    Location,
    Organisation,
    OrgType,
    Residency,
    Service,
    ServiceStatus,
    Verification,
    schedule_from_json,
    schedule_to_json,
)
from eventkit.build import from_row

ORGANISATION_COLUMNS = """o.id, o.name, o.org_type, o.webhook_url, o.email, o.active, o.description,
                  o.alternate_name, o.website, o.corporate_number, o.channels, o.portal_url, o.phone"""
ORGANISATION_AUDIT = "o.created_at, o.updated_at, o.updated_by, o.last_verified_at, o.last_verified_by"


def as_organisation(row: asyncpg.Record) -> Organisation:
    return from_row(
        Organisation,
        row,
        org_type=OrgType(row["org_type"]),
        channels=tuple(Channel(c) for c in row["channels"]),
    )


def organisation_values(o: Organisation) -> tuple[Any, ...]:
    return (
        o.id,
        o.name,
        o.org_type.value,
        o.webhook_url,
        o.email,
        o.active,
        o.description,
        o.alternate_name,
        o.website,
        o.corporate_number,
        [c.value for c in o.channels],
        o.portal_url,
        o.phone,
    )


@dataclass(frozen=True)
class Audit:
    """Who changed a row last, and when it was created and changed (and, for an organisation,
    when a person last confirmed it)."""

    created_at: datetime
    updated_at: datetime
    updated_by: str
    verified: Verification | None = None


def as_organisation_audit(row: asyncpg.Record) -> Audit:
    verified = None
    if row["last_verified_at"] is not None:
        verified = Verification(row["last_verified_at"], row["last_verified_by"] or "")
    return Audit(row["created_at"], row["updated_at"], row["updated_by"], verified)


SERVICE_COLUMNS = """s.id AS service_id, s.organisation_id, s.name AS service_name,
    s.description AS service_description, s.status, s.coverage, s.topics, s.capabilities,
    s.languages, s.minimum_age, s.maximum_age, s.genders, s.residency, s.schedules,
    s.capacity_available, s.capacity_maximum, s.capacity_unit, s.capacity_description,
    s.capacity_updated, s.capacity_reported_at"""
SERVICE_AUDIT = """s.created_at AS service_created_at, s.updated_at AS service_updated_at,
    s.updated_by AS service_updated_by"""


def as_service_audit(row: asyncpg.Record) -> Audit:
    return Audit(row["service_created_at"], row["service_updated_at"], row["service_updated_by"])


def as_service(row: asyncpg.Record) -> Service:
    capacity = None
    if row["capacity_available"] is not None:
        capacity = Capacity(
            available=row["capacity_available"],
            maximum=row["capacity_maximum"],
            updated=row["capacity_updated"],
            reported_at=row["capacity_reported_at"],
            unit=row["capacity_unit"] or "referrals",
            description=row["capacity_description"],
        )
    return Service(
        id=row["service_id"],
        organisation_id=row["organisation_id"],
        name=row["service_name"],
        coverage=tuple(row["coverage"]),
        topics=tuple(Topic(t) for t in row["topics"]),
        capabilities=frozenset(Capability(c) for c in row["capabilities"]),
        languages=tuple(row["languages"]),
        eligibility=Eligibility(
            minimum_age=row["minimum_age"],
            maximum_age=row["maximum_age"],
            genders=frozenset(Gender(g) for g in row["genders"]),
            residency=Residency(row["residency"]),
        ),
        schedules=tuple(schedule_from_json(s) for s in row["schedules"]),
        capacity=capacity,
        status=ServiceStatus(row["status"]),
        description=row["service_description"],
    )


def service_values(s: Service) -> tuple[Any, ...]:
    c = s.capacity
    return (
        s.id,
        s.organisation_id,
        s.name,
        s.description,
        s.status.value,
        list(s.coverage),
        [t.value for t in s.topics],
        sorted(c.value for c in s.capabilities),
        list(s.languages),
        s.eligibility.minimum_age,
        s.eligibility.maximum_age,
        sorted(g.value for g in s.eligibility.genders),
        s.eligibility.residency.value,
        [schedule_to_json(r) for r in s.schedules],
        c.available if c else None,
        c.maximum if c else None,
        c.unit if c else None,
        c.description if c else None,
        c.updated if c else None,
        c.reported_at if c else None,
    )


LOCATION_COLUMNS = """l.id, l.organisation_id, l.name, l.location_type, l.municipality_code,
    l.postal_code, l.address, l.latitude, l.longitude,
    coalesce((SELECT array_agg(sl.service_id ORDER BY sl.service_id) FROM service_at_locations sl
               WHERE sl.location_id = l.id), '{}') AS service_ids"""


def as_location(row: asyncpg.Record) -> Location:
    return from_row(Location, row, service_ids=tuple(row["service_ids"]))
