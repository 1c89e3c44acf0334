"""The coverage query against real PostgreSQL: who reaches a municipality, and the list filters."""

import uuid

import asyncpg
import pytest

from contracts.vocabulary import Topic
from directory import repository
from directory.domain import Organisation, OrgType
from directory.main import MIGRATIONS
from eventkit.db import migrate, service_migrations

pytestmark = pytest.mark.integration

SHINJUKU = "131041"


async def register(
    pool: asyncpg.Pool,
    name: str,
    coverage: tuple[str, ...],
    topics: tuple[Topic, ...] = (Topic.LONELY,),
    *,
    active: bool = True,
) -> uuid.UUID:
    organisation = Organisation(
        id=uuid.uuid4(),
        name=name,
        org_type=OrgType.NPO,
        coverage=coverage,
        topics=topics,
        active=active,
    )
    async with pool.acquire() as conn:
        assert await repository.insert_organisation(conn, organisation=organisation, updated_by="test")
    return organisation.id


async def test_a_fresh_database_migrates_cleanly_and_a_second_run_applies_nothing(
    migrated_database: str,
) -> None:
    assert await migrate(migrated_database, service_migrations("directory", MIGRATIONS)) == []


async def test_the_coverage_query_finds_exact_prefecture_and_national_coverage_only(
    pool: asyncpg.Pool,
) -> None:
    exact = await register(pool, "Shinjuku", (SHINJUKU,))
    among_others = await register(pool, "Several wards", ("131016", SHINJUKU, "131059"))
    prefecture = await register(pool, "Tokyo", ("13",))
    national = await register(pool, "Japan", ("JP",))
    await register(pool, "Chiyoda", ("131016",))
    await register(pool, "Osaka", ("27", "271004"))
    await register(pool, "Closed", (SHINJUKU,), active=False)

    async with pool.acquire() as conn:
        found = await repository.find_organisations_covering(conn, municipality_code=SHINJUKU)

    assert {o.id for o in found} == {exact, among_others, prefecture, national}


async def test_the_coverage_query_includes_inactive_organisations_only_when_asked(
    pool: asyncpg.Pool,
) -> None:
    closed = await register(pool, "Closed", (SHINJUKU,), active=False)

    async with pool.acquire() as conn:
        active_only = await repository.find_organisations_covering(conn, municipality_code=SHINJUKU)
        everyone = await repository.find_organisations_covering(
            conn, municipality_code=SHINJUKU, include_inactive=True
        )

    assert active_only == []
    assert [(o.id, o.active) for o in everyone] == [(closed, False)]


async def test_the_coverage_query_uses_the_gin_index(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            row[0]
            for row in await conn.fetch(
                "EXPLAIN SELECT id FROM organisations WHERE coverage && $1::text[]",
                [SHINJUKU, "13", "JP"],
            )
        )

    assert "organisations_coverage" in plan


async def test_organisations_round_trip_with_every_field(pool: asyncpg.Pool) -> None:
    organisation = Organisation(
        id=uuid.uuid4(),
        name="【サンプル】新宿区社会福祉協議会",
        org_type=OrgType.SHAKYO,
        coverage=(SHINJUKU, "13"),
        topics=(Topic.LONELY, Topic.POVERTY),
        webhook_url="http://127.0.0.1:8109/hooks/x",
        email="soudan@shakyo.example",
    )
    async with pool.acquire() as conn:
        await repository.insert_organisation(conn, organisation=organisation, updated_by="op-1")
        record = await repository.get_organisation(conn, organisation_id=organisation.id)

    assert record is not None
    assert record.organisation == organisation
    assert record.updated_by == "op-1"
    assert record.created_at == record.updated_at


async def test_the_list_filters_by_area_topic_and_active(pool: asyncpg.Pool) -> None:
    local_lonely = await register(pool, "A local lonely", (SHINJUKU,))
    local_all = await register(pool, "B local all topics", (SHINJUKU,), topics=())
    tokyo_poverty = await register(pool, "C tokyo poverty", ("13",), topics=(Topic.POVERTY,))
    osaka_lonely = await register(pool, "D osaka lonely", ("27",))
    closed = await register(pool, "E closed", ("JP",), topics=(Topic.WOMEN,), active=False)

    async def ids(
        municipality_code: str | None = None, topic: Topic | None = None, active: bool | None = None
    ) -> list[uuid.UUID]:
        async with pool.acquire() as conn:
            found = await repository.list_organisations(
                conn, municipality_code=municipality_code, topic=topic, active=active, limit=100, offset=0
            )
        return [r.organisation.id for r in found]

    assert await ids() == [local_lonely, local_all, tokyo_poverty, osaka_lonely, closed]
    assert await ids(municipality_code=SHINJUKU) == [local_lonely, local_all, tokyo_poverty, closed]
    assert await ids(topic=Topic.LONELY) == [local_lonely, local_all, osaka_lonely]
    assert await ids(active=False) == [closed]
    assert await ids(municipality_code=SHINJUKU, topic=Topic.POVERTY, active=True) == [
        local_all,
        tokyo_poverty,
    ]
