"""directory's use cases: keep the register, answer referral requests, follow handoffs."""

import dataclasses
import json
import logging
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import asyncpg

from contracts.events import (
    Event,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffExpired,
    HandoffOffered,
    HandoffOutcomeRecorded,
    ReferralMatched,
    ReferralRequested,
    ReferralWithdrawn,
)
from contracts.hours import WeeklyRule
from contracts.municipality import Municipality
from contracts.vocabulary import DeclineReason, OutcomeStage, Topic
from directory import geography as geography_data
from directory import hsds, repository
from directory.domain import (
    Area,
    Capacity,
    Change,
    Location,
    MatchPolicy,
    MatchResult,
    Organisation,
    OrganisationRecord,
    Performance,
    ReferralNeeds,
    Service,
    ServiceStatus,
    candidate_event,
    match,
    outcome_events,
    performance_after,
)
from directory.geography import Geography
from eventkit import outbox, telemetry
from eventkit.auth import Principal, Role
from eventkit.clock import system_clock
from eventkit.errors import ApiError, ErrorDetail, not_found

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What the use cases need besides a connection; built once by main.py."""

    # A source, not the data: the shipped geography is read on first use (then cached), so that
    # building the handler table at import reads no files.
    geography_source: Callable[[], Geography] = geography_data.load
    policy: MatchPolicy = dataclasses.field(default_factory=MatchPolicy)
    clock: Callable[[], datetime] = system_clock
    listings: repository.ListingCache = dataclasses.field(default_factory=repository.ListingCache)

    @property
    def geography(self) -> Geography:
        return self.geography_source()


def area_of(geography: Geography, municipality_code: str) -> Area:
    # A code the geography does not know (valid check digit, but created after the data's
    # snapshot, or a test's) still matches by itself, its prefecture and JP: no city tier.
    return Area.of(municipality_code, geography.city_of(municipality_code))


def _invalid(field: str, reason: str) -> ApiError:
    return ApiError(
        422, "validation_failed", "The request is invalid.", details=[ErrorDetail(field=field, reason=reason)]
    )


# ---- change log (HSDS metadata) ----------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, WeeklyRule):
        return repository.schedule_to_json(value)
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        # One instant, one text: 09:00+09:00 and 00:00Z must not read as a change.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _text(value: Any) -> str:
    plain = _plain(value)
    return "" if plain is None else plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)


def diff(
    before: Any,
    after: Any,
    *,
    resource_id: uuid.UUID,
    resource_type: str,
    action: str,
    by: str,
    skip: Sequence[str] = (),
) -> list[Change]:
    """One HSDS metadata row per changed field (every field when created)."""
    changes = []
    for f in dataclasses.fields(after):
        if f.name in ("id", *skip):
            continue
        old = _text(getattr(before, f.name)) if before is not None else ""
        new = _text(getattr(after, f.name))
        if before is None or old != new:
            changes.append(Change(resource_id, resource_type, action, f.name, old, new, by))
    return changes


# ---- organisations -----------------------------------------------------------------------------

_ENDPOINT_FIELD = {"webhook": "webhook_url", "email": "email"}


def _refuse_unreachable(organisation: Organisation, *, prefix: str = "body") -> None:
    """An alert channel without its address would reach nobody and still spend one of the case's
    attempts: such a registration is refused, naming the missing address."""
    missing = organisation.channels_without_endpoint()
    if missing:
        raise ApiError(
            422,
            "validation_failed",
            "The request is invalid.",
            details=[
                ErrorDetail(
                    field=f"{prefix}.{_ENDPOINT_FIELD[c.value]}",
                    reason=f"the {c.value} channel needs a {_ENDPOINT_FIELD[c.value]}: "
                    "without it an alert would reach nobody",
                )
                for c in missing
            ],
        )


async def _record(conn: asyncpg.Connection, organisation_id: uuid.UUID) -> OrganisationRecord | None:
    found = await repository.get_organisation(conn, organisation_id=organisation_id)
    if found is None:
        return None
    organisation, audit = found
    services = await repository.services_of(conn, organisation_ids=[organisation_id])
    return OrganisationRecord(
        organisation, tuple(services), audit.created_at, audit.updated_at, audit.updated_by
    )


async def _save_service(
    conn: asyncpg.Connection, *, service: Service, by: str, action: str | None = None
) -> tuple[Service, bool]:
    """Upsert a service, keeping its live capacity (changed only by reports and handoffs)."""
    existing = await repository.get_service(conn, service_id=service.id, for_update=True)
    before = existing[0] if existing else None
    service = dataclasses.replace(service, capacity=before.capacity if before else None)
    await repository.upsert_service(conn, service=service, updated_by=by)
    await repository.log_changes(
        conn,
        diff(
            before,
            service,
            resource_id=service.id,
            resource_type="service",
            action=action or ("update" if before else "create"),
            by=by,
            skip=("capacity",),
        ),
    )
    return service, before is None


async def put_organisation(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    organisation: Organisation,
    main_service: Service | None = None,
) -> tuple[OrganisationRecord, bool]:
    """Create the organisation under its id, or replace it (and its main service); (it, created?)."""
    telemetry.tag(organisation_id=organisation.id)
    _refuse_unreachable(organisation)
    by = principal.subject
    async with pool.acquire() as conn, conn.transaction():
        # Insert first: ON CONFLICT waits for a concurrent insert of the same id, so two racing
        # PUTs end as one create and one update instead of a unique-violation error.
        created = await repository.insert_organisation(conn, organisation=organisation, updated_by=by)
        before = None
        if not created:
            found = await repository.get_organisation(conn, organisation_id=organisation.id, for_update=True)
            assert found is not None, "organisations are never deleted, only deactivated"
            before = found[0]
            await repository.update_organisation(conn, organisation=organisation, updated_by=by)
        await repository.log_changes(
            conn,
            diff(
                before,
                organisation,
                resource_id=organisation.id,
                resource_type="organization",
                action="update" if before else "create",
                by=by,
            ),
        )
        if main_service is not None:
            await _save_service(conn, service=main_service, by=by)
        record = await _record(conn, organisation.id)
    assert record is not None
    return record, created


async def get_organisation(
    pool: asyncpg.Pool, *, principal: Principal, organisation_id: uuid.UUID
) -> OrganisationRecord:
    telemetry.tag(organisation_id=organisation_id)
    # A partner reads only its own entry; any other id answers 404 so that ids cannot be probed.
    if principal.role is Role.PARTNER and not principal.is_partner_of(organisation_id):
        raise not_found("organisation")
    async with pool.acquire() as conn:
        record = await _record(conn, organisation_id)
    if record is None:
        raise not_found("organisation")
    return record


async def list_organisations(
    pool: asyncpg.Pool,
    *,
    context: Context,
    municipality_code: str | None,
    topic: Topic | None,
    active: bool | None,
    search: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[OrganisationRecord], int]:
    area = area_of(context.geography, municipality_code).keys() if municipality_code else None
    async with pool.acquire() as conn:
        found, total = await repository.list_organisations(
            conn, area=area, topic=topic, active=active, search=search, limit=limit, offset=offset
        )
        services = await repository.services_of(conn, organisation_ids=[o.id for o, _ in found])
    by_org: dict[uuid.UUID, list[Service]] = {}
    for s in services:
        by_org.setdefault(s.organisation_id, []).append(s)
    return [
        OrganisationRecord(o, tuple(by_org.get(o.id, ())), a.created_at, a.updated_at, a.updated_by)
        for o, a in found
    ], total


async def deactivate_organisation(
    pool: asyncpg.Pool, *, principal: Principal, organisation_id: uuid.UUID
) -> None:
    """Soft delete: past matches keep pointing at it, new referrals no longer reach it."""
    telemetry.tag(organisation_id=organisation_id)
    async with pool.acquire() as conn, conn.transaction():
        was_active = await repository.deactivate_organisation(
            conn, organisation_id=organisation_id, updated_by=principal.subject
        )
        if was_active is None:
            raise not_found("organisation")
        if was_active:
            await repository.log_changes(
                conn,
                [
                    Change(
                        organisation_id,
                        "organization",
                        "deactivate",
                        "active",
                        "true",
                        "false",
                        principal.subject,
                    )
                ],
            )


# ---- services and capacity ---------------------------------------------------------------------


def _owns(principal: Principal, organisation_id: uuid.UUID) -> bool:
    return principal.role is not Role.PARTNER or principal.is_partner_of(organisation_id)


async def put_service(pool: asyncpg.Pool, *, principal: Principal, service: Service) -> tuple[Service, bool]:
    """Operators change any service; a partner only its own organisation's (others are 404)."""
    telemetry.tag(organisation_id=service.organisation_id)
    async with pool.acquire() as conn, conn.transaction():
        existing = await repository.get_service(conn, service_id=service.id, for_update=True)
        if existing and not _owns(principal, existing[0].organisation_id):
            raise not_found("service")
        if not _owns(principal, service.organisation_id):
            raise not_found("organisation")
        if (
            existing
            and existing[0].organisation_id != service.organisation_id
            and principal.role is Role.PARTNER
        ):
            raise not_found("service")
        if await repository.get_organisation(conn, organisation_id=service.organisation_id) is None:
            raise _invalid("body.organization_id", "no organisation with that id")
        return await _save_service(conn, service=service, by=principal.subject)


async def get_service(pool: asyncpg.Pool, *, principal: Principal, service_id: uuid.UUID) -> Service:
    async with pool.acquire() as conn:
        found = await repository.get_service(conn, service_id=service_id)
    if found is None or not _owns(principal, found[0].organisation_id):
        raise not_found("service")
    return found[0]


async def list_services(
    pool: asyncpg.Pool,
    *,
    context: Context,
    municipality_code: str | None,
    organisation_id: uuid.UUID | None,
    term: str | None,
    search: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Service], int]:
    area = area_of(context.geography, municipality_code).keys() if municipality_code else None
    async with pool.acquire() as conn:
        return await repository.list_services(
            conn,
            area=area,
            organisation_id=organisation_id,
            term=term,
            search=search,
            limit=limit,
            offset=offset,
        )


async def deactivate_service(pool: asyncpg.Pool, *, principal: Principal, service_id: uuid.UUID) -> None:
    async with pool.acquire() as conn, conn.transaction():
        found = await repository.get_service(conn, service_id=service_id, for_update=True)
        if found is None:
            raise not_found("service")
        service = found[0]
        if service.status is not ServiceStatus.INACTIVE:
            await _save_service(
                conn,
                service=dataclasses.replace(service, status=ServiceStatus.INACTIVE),
                by=principal.subject,
                action="deactivate",
            )


async def report_capacity(
    pool: asyncpg.Pool,
    *,
    context: Context,
    principal: Principal,
    service_id: uuid.UUID,
    available: int,
    maximum: int | None,
    unit: str,
    description: str | None,
) -> Service:
    """A partner (or an operator) says how many more referrals the service can take now."""
    if maximum is not None and available > maximum:
        raise _invalid("body.available", f"available ({available}) is above maximum ({maximum})")
    now = context.clock()
    async with pool.acquire() as conn, conn.transaction():
        found = await repository.get_service(conn, service_id=service_id, for_update=True)
        if found is None or not _owns(principal, found[0].organisation_id):
            raise not_found("service")
        before = found[0].capacity
        capacity = Capacity(available, maximum, now, now, unit, description)
        await repository.set_capacity(
            conn, service_id=service_id, capacity=capacity, updated_by=principal.subject
        )
        await repository.log_changes(
            conn,
            diff(
                before,
                capacity,
                resource_id=service_id,
                resource_type="service_capacity",
                action="report",
                by=principal.subject,
                skip=("updated", "reported_at"),
            ),
        )
    return dataclasses.replace(found[0], capacity=capacity)


# ---- locations ---------------------------------------------------------------------------------


async def put_location(pool: asyncpg.Pool, *, principal: Principal, location: Location) -> Location:
    async with pool.acquire() as conn, conn.transaction():
        if await repository.get_organisation(conn, organisation_id=location.organisation_id) is None:
            raise _invalid("body.organization_id", "no organisation with that id")
        services = await repository.services_of(conn, organisation_ids=[location.organisation_id])
        foreign = set(location.service_ids) - {s.id for s in services}
        if foreign:
            raise _invalid("body.service_ids", "every service must belong to the location's organisation")
        before = await repository.get_location(conn, location_id=location.id)
        await repository.upsert_location(conn, location=location, updated_by=principal.subject)
        await repository.log_changes(
            conn,
            diff(
                before,
                location,
                resource_id=location.id,
                resource_type="location",
                action="update" if before else "create",
                by=principal.subject,
            ),
        )
    return location


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), good to a few metres at these scales."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Place:
    """Where a search is centred: the municipalities it names and a reference point."""

    municipalities: tuple[Municipality, ...]
    point: tuple[float, float] | None


def place_of(
    geography: Geography,
    *,
    municipality_code: str | None,
    postal_code: str | None,
    latitude: float | None,
    longitude: float | None,
) -> Place | None:
    found: tuple[Municipality, ...] = ()
    if municipality_code:
        m = geography.municipality(municipality_code)
        if m is None:
            raise _invalid(
                "query.municipality_code", f"{municipality_code}: not a municipality in the geography"
            )
        found = (m,)
    elif postal_code:
        found = geography.by_postal_code(postal_code)
        if not found:
            raise _invalid("query.postcode", "no municipality has this postal code")
    point = (latitude, longitude) if latitude is not None and longitude is not None else None
    if point is None and found:
        # The municipality's reference point stands in for the postal code's centroid, which no
        # offline source has.
        point = (found[0].latitude, found[0].longitude)
    if not found and point is None:
        return None
    return Place(found, point)


async def search_service_at_locations(
    pool: asyncpg.Pool,
    *,
    context: Context,
    place: Place | None,
    proximity_m: float | None,
    organisation_id: uuid.UUID | None,
    term: str | None,
) -> list[tuple[repository.ServiceAtLocation, float | None]]:
    """HSDS /service_at_locations: in the municipalities, or within `proximity_m` of the point."""
    codes: list[str] | None = None
    if place is not None and proximity_m is None:
        codes = []
        for m in place.municipalities:
            # A designated city's offices are registered in its wards.
            codes += [m.code, *context.geography.wards_of(m.code)]
    async with pool.acquire() as conn:
        found = await repository.find_service_at_locations(
            conn, municipality_codes=codes, organisation_id=organisation_id, term=term
        )
    results: list[tuple[repository.ServiceAtLocation, float | None]] = []
    for sal in found:
        loc = sal.location
        distance = None
        if place is not None and place.point and loc.latitude is not None and loc.longitude is not None:
            distance = distance_m(place.point, (loc.latitude, loc.longitude))
        if proximity_m is not None and (distance is None or distance > proximity_m):
            continue
        results.append((sal, distance))
    if proximity_m is not None:
        results.sort(key=lambda pair: (pair[1] or 0.0, pair[0].id.int))
    return results


# ---- matching ----------------------------------------------------------------------------------


def needs_of(request: ReferralRequested) -> ReferralNeeds:
    return ReferralNeeds(
        topic=request.topic,
        municipality_code=request.municipality_code,
        severity=request.severity,
        need_tags=request.need_tags,
        age_band=request.age_band,
        gender=request.gender,
        language=request.language,
    )


async def rank(
    conn: asyncpg.Connection,
    *,
    context: Context,
    needs: ReferralNeeds,
    at: datetime,
    explain_inactive: bool = False,
) -> MatchResult:
    """The one ranking both the real match and the dry run use: same needs, same listings."""
    area = area_of(context.geography, needs.municipality_code)
    listings = await repository.find_listings(
        conn, area=area.keys(), include_inactive=explain_inactive, cache=context.listings
    )
    return match(needs, listings, area=area, at=at, policy=context.policy)


async def dry_run(
    pool: asyncpg.Pool, *, context: Context, needs: ReferralNeeds, at: datetime | None = None
) -> MatchResult:
    """What a referral with these needs would be matched to (now, or at `at`); nothing is stored.
    Inactive organisations are in its explanation too, so a familiar one's absence is explained;
    they are excluded from the ranking either way."""
    async with pool.acquire() as conn:
        return await rank(conn, context=context, needs=needs, at=at or context.clock(), explain_inactive=True)


async def match_referral(
    conn: asyncpg.Connection, request: ReferralRequested, *, context: Context
) -> tuple[Event, ...] | None:
    """Match a referral inside the caller's transaction: the row and its events, or nothing.

    Returns the staged events, or None when this referral was answered before: the request was
    redelivered (possibly under a new event id) and must not produce a second answer.
    """
    at = context.clock()
    result = await rank(conn, context=context, needs=needs_of(request), at=at)
    answer = outcome_events(request, result, at=at)
    chosen = result.chosen
    first = answer[0]
    if isinstance(first, ReferralMatched):
        reasons = list(first.reasons)
        # The stored candidates also name the service, so that an acknowledgement later takes
        # its place from the right service's capacity.
        candidates = [
            candidate_event(c).model_dump(mode="json") | {"service_id": str(c.service.id)}
            for c in result.candidates
        ]
    else:
        reasons, candidates = list(result.unmatched_reasons()), []
    first_answer = await repository.insert_match(
        conn,
        referral_id=request.referral_id,
        case_id=request.case_id,
        organisation_id=chosen.organisation.id if chosen else None,
        reasons=reasons,
        candidates=candidates,
        matched_at=at,
        trace_id=telemetry.current_trace_id(),
    )
    if not first_answer:
        log.info("referral %s was answered before; not answering again", request.referral_id)
        return None
    for event in answer:
        await outbox.append(conn, event)
    if chosen is not None:
        telemetry.tag(organisation_id=chosen.organisation.id)
        log.info(
            "referral %s matched to organisation %s (%s tier, %d eligible%s)",
            request.referral_id,
            chosen.organisation.id,
            chosen.tier.value,
            result.eligible_count,
            ", national fallback: operators alerted" if result.fallback else "",
        )
    else:
        log.warning("referral %s unmatched, operators alerted: %s", request.referral_id, ",".join(reasons))
    return answer


# ---- following handoffs: performance and capacity ----------------------------------------------


async def offer_made(conn: asyncpg.Connection, event: HandoffOffered) -> None:
    await repository.record_offer(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        organisation_id=event.organisation.organisation_id,
        at=event.offered_at,
    )


async def _offer_ended(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID,
    attempt: int,
    organisation_id: uuid.UUID,
    answer: str,
    at: datetime,
) -> bool:
    ended = await repository.end_offer(
        conn, referral_id=referral_id, attempt=attempt, organisation_id=organisation_id, ended=answer
    )
    if not ended.first:
        return False
    seconds = (at - ended.offered_at).total_seconds() if ended.offered_at else None
    previous = await repository.get_performance(conn, organisation_id=organisation_id) or Performance()
    if ended.offered_at is None:
        # The offer itself was not seen (made before directory followed offers): count it too,
        # so that offered ≥ acknowledged + declined + expired always holds.
        previous = dataclasses.replace(previous, offered=previous.offered + 1)
    await repository.save_performance(
        conn,
        organisation_id=organisation_id,
        performance=performance_after(previous, answer, ack_seconds=seconds),
    )
    return True


async def _service_of(
    conn: asyncpg.Connection, referral_id: uuid.UUID, organisation_id: uuid.UUID
) -> uuid.UUID | None:
    stored = await repository.get_match(conn, referral_id=referral_id)
    found = stored.service_for(organisation_id) if stored else None
    if found is None and await repository.get_service(conn, service_id=organisation_id) is not None:
        found = organisation_id  # the organisation's main service shares its id
    return found


async def _adjust(
    conn: asyncpg.Connection, *, service_id: uuid.UUID, delta: int, at: datetime, why: str
) -> None:
    changed = await repository.adjust_capacity(conn, service_id=service_id, delta=delta, at=at)
    if changed is not None and changed[0] != changed[1]:
        await repository.log_changes(
            conn,
            [
                Change(
                    service_id,
                    "service_capacity",
                    why,
                    "available",
                    str(changed[0]),
                    str(changed[1]),
                    "referral",
                )
            ],
        )


async def handoff_acknowledged(conn: asyncpg.Connection, event: HandoffAcknowledged) -> None:
    await _offer_ended(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        organisation_id=event.organisation_id,
        answer="acknowledged",
        at=event.acknowledged_at,
    )
    service_id = await _service_of(conn, event.referral_id, event.organisation_id)
    if service_id is None:
        return
    taken = await repository.hold_capacity(
        conn,
        referral_id=event.referral_id,
        organisation_id=event.organisation_id,
        service_id=service_id,
        at=event.acknowledged_at,
    )
    if taken:
        await _adjust(conn, service_id=service_id, delta=-1, at=event.acknowledged_at, why="handoff_accepted")


async def handoff_declined(conn: asyncpg.Connection, event: HandoffDeclined) -> None:
    first = await _offer_ended(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        organisation_id=event.organisation_id,
        answer="declined",
        at=event.declined_at,
    )
    if not first or event.reason is not DeclineReason.NO_CAPACITY:
        return
    # "No capacity" from the partner itself is a report: the service is full as of now.
    service_id = await _service_of(conn, event.referral_id, event.organisation_id)
    found = await repository.get_service(conn, service_id=service_id, for_update=True) if service_id else None
    if found is None:
        return
    before = found[0].capacity
    capacity = Capacity(
        0,
        before.maximum if before else None,
        event.declined_at,
        event.declined_at,
        before.unit if before else "referrals",
        before.description if before else None,
    )
    await repository.set_capacity(conn, service_id=found[0].id, capacity=capacity, updated_by="referral")
    await repository.log_changes(
        conn,
        [
            Change(
                found[0].id,
                "service_capacity",
                "declined_no_capacity",
                "available",
                str(before.available) if before else "",
                "0",
                "referral",
            )
        ],
    )


async def handoff_expired(conn: asyncpg.Connection, event: HandoffExpired) -> None:
    await _offer_ended(
        conn,
        referral_id=event.referral_id,
        attempt=event.attempt,
        organisation_id=event.organisation_id,
        answer="expired",
        at=event.expired_at,
    )


async def _release(
    conn: asyncpg.Connection, *, referral_id: uuid.UUID, organisation_id: uuid.UUID | None, at: datetime
) -> None:
    for service_id in await repository.release_capacity(
        conn, referral_id=referral_id, organisation_id=organisation_id, at=at
    ):
        await _adjust(conn, service_id=service_id, delta=+1, at=at, why="handoff_closed")


async def outcome_recorded(conn: asyncpg.Connection, event: HandoffOutcomeRecorded) -> None:
    if event.stage is OutcomeStage.CLOSED:
        await _release(
            conn, referral_id=event.referral_id, organisation_id=event.organisation_id, at=event.recorded_at
        )


async def referral_withdrawn(conn: asyncpg.Connection, event: ReferralWithdrawn) -> None:
    await _release(conn, referral_id=event.referral_id, organisation_id=None, at=event.withdrawn_at)


# ---- HSDS import and export --------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    organizations: int
    services: int
    locations: int
    created: int
    changed_fields: int


async def import_hsds(
    pool: asyncpg.Pool, *, principal: Principal, register: hsds.RegisterIO, now: datetime
) -> ImportSummary:
    """Upsert every organization with its services and locations, all or nothing.

    Importing the same document again changes nothing and logs nothing (only differences are
    recorded), which is what lets the run command load its sample directory on every start.
    """
    by = principal.subject
    services = locations = created = changed = 0
    async with pool.acquire() as conn, conn.transaction():
        for org in register.organizations:
            organisation, org_services, org_locations = hsds.from_hsds(org, now=now)
            _refuse_unreachable(organisation, prefix=f"body.organizations.{organisation.id}")
            inserted = await repository.insert_organisation(conn, organisation=organisation, updated_by=by)
            if inserted:
                created += 1
                changes = diff(
                    None,
                    organisation,
                    resource_id=organisation.id,
                    resource_type="organization",
                    action="create",
                    by=by,
                )
            else:
                found = await repository.get_organisation(
                    conn, organisation_id=organisation.id, for_update=True
                )
                assert found is not None
                changes = diff(
                    found[0],
                    organisation,
                    resource_id=organisation.id,
                    resource_type="organization",
                    action="import",
                    by=by,
                )
                if changes:
                    await repository.update_organisation(conn, organisation=organisation, updated_by=by)
            for service in org_services:
                existing = await repository.get_service(conn, service_id=service.id, for_update=True)
                if existing and existing[0].organisation_id != organisation.id:
                    raise _invalid(
                        "body.organizations", f"service {service.id} belongs to another organization"
                    )
                service_changes = diff(
                    existing[0] if existing else None,
                    service,
                    resource_id=service.id,
                    resource_type="service",
                    action="import" if existing else "create",
                    by=by,
                )
                if service_changes:
                    await repository.upsert_service(conn, service=service, updated_by=by)
                changes += service_changes
                services += 1
            for location in org_locations:
                before = await repository.get_location(conn, location_id=location.id)
                if before and before.organisation_id != organisation.id:
                    raise _invalid(
                        "body.organizations", f"location {location.id} belongs to another organization"
                    )
                location_changes = diff(
                    before,
                    location,
                    resource_id=location.id,
                    resource_type="location",
                    action="import" if before else "create",
                    by=by,
                )
                if location_changes:
                    await repository.upsert_location(conn, location=location, updated_by=by)
                changes += location_changes
                locations += 1
            await repository.log_changes(conn, changes)
            changed += len(changes)
    log.info(
        "HSDS import: %d organizations (%d new), %d services, %d locations, %d fields changed",
        len(register.organizations),
        created,
        services,
        locations,
        changed,
    )
    return ImportSummary(len(register.organizations), services, locations, created, changed)


async def export_hsds(
    pool: asyncpg.Pool, *, organisation_ids: Sequence[uuid.UUID] | None = None
) -> hsds.RegisterIO:
    async with pool.acquire() as conn:
        ids = (
            list(organisation_ids)
            if organisation_ids is not None
            else await repository.all_organisation_ids(conn)
        )
        records = []
        for org_id in ids:
            record = await _record(conn, org_id)
            if record is not None:
                records.append(record)
        locations = await repository.locations_of(conn, organisation_ids=ids)
        resource_ids = [*ids, *(s.id for r in records for s in r.services)]
        changes = await repository.changes_of(conn, resource_ids=resource_ids)
    by_org: dict[uuid.UUID, list[Location]] = {}
    for loc in locations:
        by_org.setdefault(loc.organisation_id, []).append(loc)
    return hsds.RegisterIO(
        organizations=[hsds.to_hsds(r, by_org.get(r.organisation.id, []), changes) for r in records]
    )
