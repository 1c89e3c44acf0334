"""The register's use cases on real PostgreSQL: upsert, read rules, soft delete, metadata, dry run."""

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.hours import JST
from contracts.vocabulary import Gender, Severity, Topic
from directory.context import Context
from directory.curation import service as curation
from directory.curation.domain import RegisterQuery
from directory.matching import service as matching
from directory.matching.domain import Exclusion
from directory.paging import PageRequest
from directory.register import repository, service
from directory.register.domain import Capability, Capacity, Organisation, OrgType, Service, ServiceStatus
from eventkit.auth import Principal, Role
from eventkit.db import create_pool
from eventkit.errors import Invalid, NotFound
from eventkit.http import status_of

from ..builders import needs_for, organisation_with_service
from ..strategies import capacities, eligibilities, municipality_codes, weekly_rules

SHINJUKU = "131041"
OPERATOR = Principal(subject="op-1", role=Role.OPERATOR)
COUNSELLOR = Principal(subject="cn-1", role=Role.COUNSELLOR)
NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
CONTEXT = Context(clock=lambda: NOW)


def organisation(**fields: Any) -> tuple[Organisation, Service]:
    """新宿区's 社会福祉協議会 and its service for loneliness, unless `fields` say otherwise."""
    return organisation_with_service(
        fields.pop("name", "新宿区社会福祉協議会"),
        fields.pop("coverage", (SHINJUKU,)),
        org_id=fields.pop("id", uuid.uuid4()),
        topics=fields.pop("topics", (Topic.LONELY,)),
        # Taken after the pops above: what is left of `fields` is the organisation's.
        org={"org_type": OrgType.SHAKYO, "webhook_url": "https://partner.example/hooks/1"} | fields,
    )


async def put(pool: asyncpg.Pool, pair: tuple[Organisation, Service], principal: Principal = OPERATOR) -> Any:
    return await service.put_organisation(
        pool, context=CONTEXT, principal=principal, organisation=pair[0], main_service=pair[1]
    )


async def test_put_creates_then_replaces_every_field_and_records_who_changed_what(pool: asyncpg.Pool) -> None:
    first = organisation()
    created, was_created = await put(pool, first)
    second = (
        dataclasses.replace(first[0], name="新宿区社協", webhook_url=None),
        dataclasses.replace(first[1], coverage=("13",), topics=()),
    )

    updated, second_created = await put(pool, second, Principal(subject="op-2", role=Role.OPERATOR))

    assert (was_created, second_created) == (True, False)
    assert updated.organisation == second[0] and updated.main_service == second[1]
    assert updated.created_at == created.created_at and updated.updated_at > created.updated_at
    assert (created.updated_by, updated.updated_by) == ("op-1", "op-2")
    async with pool.acquire() as conn:
        changes = await repository.changes_of(conn, resource_ids=[first[0].id])
    later = [
        (c.resource_type, c.field_name, c.previous_value, c.replacement_value, c.updated_by)
        for c in changes
        if c.action == "update"
    ]
    assert ("organization", "name", "新宿区社会福祉協議会", "新宿区社協", "op-2") in later
    assert ("service", "coverage", '["131041"]', '["13"]', "op-2") in later
    assert ("organization", "webhook_url", "https://partner.example/hooks/1", "", "op-2") in later


async def test_the_same_put_again_records_no_change(pool: asyncpg.Pool) -> None:
    same = organisation()
    await put(pool, same)
    before = await pool.fetchval("SELECT count(*) FROM change_log")

    await put(pool, same)

    assert await pool.fetchval("SELECT count(*) FROM change_log") == before


async def test_concurrent_puts_of_a_new_id_end_as_one_create_and_one_update(pool: asyncpg.Pool) -> None:
    same = organisation()

    results = await asyncio.gather(put(pool, same), put(pool, same))

    assert sorted(created for _, created in results) == [False, True]


async def two_organisations_and_a_partner_of_the_first(
    pool: asyncpg.Pool,
) -> tuple[tuple[Organisation, Service], tuple[Organisation, Service], Principal]:
    own, other = organisation(), organisation(name="別の団体")
    for o in (own, other):
        await put(pool, o)
    return own, other, Principal(subject="partner-1", role=Role.PARTNER, organisation_id=own[0].id)


async def test_partner_reads_only_its_own_organisation(pool: asyncpg.Pool) -> None:
    own, other, partner = await two_organisations_and_a_partner_of_the_first(pool)

    record = await service.get_organisation(
        pool, context=CONTEXT, principal=partner, organisation_id=own[0].id
    )
    with pytest.raises(NotFound):
        await service.get_organisation(pool, context=CONTEXT, principal=partner, organisation_id=other[0].id)

    assert record.organisation.id == own[0].id


async def test_a_partner_edits_and_reports_capacity_for_its_own_services_only(pool: asyncpg.Pool) -> None:
    own, other, partner = await two_organisations_and_a_partner_of_the_first(pool)

    saved = await service.report_capacity(
        pool, principal=partner, service_id=own[1].id, capacity=Capacity(2, 4, NOW, NOW)
    )
    edited, created = await service.put_service(
        pool, principal=partner, service=dataclasses.replace(own[1], languages=("ja", "en"))
    )
    with pytest.raises(NotFound):
        await service.report_capacity(
            pool, principal=partner, service_id=other[1].id, capacity=Capacity(9, None, NOW, NOW)
        )
    with pytest.raises(NotFound):
        await service.put_service(
            pool, principal=partner, service=dataclasses.replace(other[1], name="乗っ取り")
        )
    with pytest.raises(NotFound):
        await service.put_service(
            pool,
            principal=partner,
            service=dataclasses.replace(own[1], id=uuid.uuid4(), organisation_id=other[0].id),
        )

    assert saved.capacity == Capacity(2, 4, NOW, NOW)
    assert (edited.languages, created, edited.capacity) == (("ja", "en"), False, saved.capacity)


async def test_capacity_above_its_maximum_is_refused_with_a_reason(pool: asyncpg.Pool) -> None:
    own = organisation()
    await put(pool, own)

    with pytest.raises(Invalid) as caught:
        await service.report_capacity(
            pool, principal=OPERATOR, service_id=own[1].id, capacity=Capacity(5, 3, NOW, NOW)
        )

    assert (caught.value.code, status_of(caught.value)) == ("validation_failed", 422)
    assert caught.value.details[0].field == "body.available"
    assert caught.value.details[0].reason == "available (5) is above maximum (3)"


async def test_delete_only_deactivates_may_be_repeated_and_a_put_reactivates(pool: asyncpg.Pool) -> None:
    kept = organisation()
    await put(pool, kept)

    await service.deactivate_organisation(pool, principal=OPERATOR, organisation_id=kept[0].id)
    await service.deactivate_organisation(pool, principal=OPERATOR, organisation_id=kept[0].id)

    listed = await curation.search_window(
        pool,
        context=CONTEXT,
        query=RegisterQuery(area=curation.area_of(CONTEXT, SHINJUKU), active=True),
        limit=10,
        offset=0,
    )
    assert listed == []
    assert await pool.fetchval("SELECT count(*) FROM change_log WHERE last_action_type = 'deactivate'") == 1
    record, _ = await put(pool, kept)
    assert record.organisation.active
    with pytest.raises(NotFound):
        await service.deactivate_organisation(pool, principal=OPERATOR, organisation_id=uuid.uuid4())


async def test_the_list_pages_by_name_and_counts(pool: asyncpg.Pool) -> None:
    for name in ("C", "A", "B"):
        await put(pool, organisation(name=name))

    async def page(offset: int) -> tuple[list[str], int]:
        found = await curation.search(
            pool, context=CONTEXT, query=RegisterQuery(), page=PageRequest(offset // 2 + 1, 2)
        )
        return [r.organisation.name for r in found.items], found.total

    assert (await page(0), await page(2), await page(4)) == ((["A", "B"], 3), (["C"], 3), ([], 3))


async def test_a_dry_run_ranks_and_explains_without_storing_anything(pool: asyncpg.Pool) -> None:
    local = organisation(name="local")
    prefecture = organisation(name="tokyo", coverage=("13",), topics=())
    closed = organisation(name="closed")
    women_only = organisation(name="women", topics=(Topic.WOMEN,))
    for o in (local, prefecture, closed, women_only):
        await put(pool, o)
    await service.deactivate_organisation(pool, principal=OPERATOR, organisation_id=closed[0].id)

    result = await matching.dry_run(
        pool,
        context=CONTEXT,
        needs=needs_for(Topic.LONELY, SHINJUKU, Severity.S3),
    )

    assert [(c.organisation.id, c.tier.value) for c in result.candidates] == [
        (local[0].id, "municipality"),
        (prefecture[0].id, "prefecture"),
    ]
    assert {(e.organisation_id, e.reason) for e in result.excluded} == {
        (closed[0].id, Exclusion.INACTIVE),
        (women_only[0].id, Exclusion.TOPIC_NOT_HANDLED),
    }
    assert await pool.fetchval("SELECT count(*) FROM matches") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


# ---- the property, on PostgreSQL ----------------------------------------------------------------

AT = datetime(2026, 1, 2, 10, 0, tzinfo=JST)  # the year-end closure: public bodies are shut


codes = municipality_codes(["13", "27"], ["101", "104", "127"])


@st.composite
def registers(draw: st.DrawFn) -> list[tuple[Organisation, Service]]:
    found = []
    for i in range(draw(st.integers(0, 12))):
        org_id = uuid.UUID(int=draw(st.integers(1, 2**64)) * 1000 + i)
        organisation = Organisation(
            id=org_id,
            name=draw(st.sampled_from(["あおば", "ひだまり", "Alpha"])),
            org_type=draw(st.sampled_from(OrgType)),
            active=draw(st.booleans()),
        )
        main = Service(
            id=org_id,
            organisation_id=org_id,
            name="main",
            coverage=tuple(
                draw(st.lists(codes | st.sampled_from(["13", "27", "JP"]), min_size=1, max_size=3))
            ),
            topics=tuple(draw(st.lists(st.sampled_from(Topic), max_size=2, unique=True))),
            capabilities=draw(st.frozensets(st.sampled_from(Capability), max_size=3)),
            languages=tuple(draw(st.lists(st.sampled_from(["ja", "en"]), min_size=1, unique=True))),
            eligibility=draw(eligibilities([Gender.FEMALE])),
            schedules=tuple(draw(st.lists(weekly_rules, max_size=2))),
            capacity=draw(st.none() | capacities(2, updated=AT, reported_at=st.just(AT))),
            status=draw(st.sampled_from(ServiceStatus)),
        )
        found.append((organisation, main))
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(register=registers(), code=codes, topic=st.sampled_from(Topic), severity=st.sampled_from(Severity))
def test_on_postgresql_no_excluded_organisation_is_ranked_and_every_ranked_one_is_eligible(
    service_db: str,
    register: list[tuple[Organisation, Service]],
    code: str,
    topic: Topic,
    severity: Severity,
) -> None:
    async def example() -> None:
        pool = await create_pool(service_db, min_size=1, max_size=1)
        try:
            await pool.execute(
                "TRUNCATE change_log, service_at_locations, locations, services, organisations CASCADE"
            )
            for pair in register:
                await put(pool, pair)
            needs = needs_for(topic, code, severity)
            result = await matching.dry_run(pool, context=CONTEXT, needs=needs, at=AT)
        finally:
            await pool.close()
        excluded = {e.organisation_id for e in result.excluded}
        for candidate in result.candidates:
            assert candidate.organisation.id not in excluded
            assert candidate.organisation.active and candidate.service.status is ServiceStatus.ACTIVE
            assert candidate.service.handles(topic)
            if severity.is_serious:
                # Unknown hours may be offered (ranked below known-open ones); known-closed never.
                assert not candidate.open_state.closed
            if candidate.service.capacity is not None:
                assert candidate.service.capacity.available > 0
        by_id = {o.id: (o, s) for o, s in register}
        for e in result.excluded:
            assert e.organisation_id in by_id
        reaching = {o.id for o, s in register if set(s.coverage) & {code, code[:2], "JP"}}
        assert excluded | {c.organisation.id for c in result.candidates} <= reaching
        assert len(excluded) + result.eligible_count == len(reaching)

    asyncio.run(example())
