"""The register's SQL on real PostgreSQL: migrations, the one matching query, and round trips."""

import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from contracts.hours import weekly
from contracts.vocabulary import Gender, Topic
from directory.geography.domain import area_keys
from directory.main import MIGRATIONS
from directory.matching import repository as matching
from directory.register import repository
from directory.register.domain import (
    Capability,
    Capacity,
    Channel,
    Eligibility,
    Organisation,
    OrgType,
    Residency,
    Service,
    ServiceStatus,
)
from eventkit.db import migrate, service_migrations

SHINJUKU = "131041"
KITA_OSAKA, OSAKA = "271276", "271004"


async def test_a_fresh_database_migrates_cleanly_and_a_second_run_applies_nothing(
    fresh_database: str,
) -> None:
    first = await migrate(fresh_database, service_migrations("directory", MIGRATIONS))
    second = await migrate(fresh_database, service_migrations("directory", MIGRATIONS))

    assert "directory/0002_hsds_register.sql" in first
    assert second == []


async def test_an_organisation_registered_before_services_becomes_its_own_main_service(
    fresh_database: str, tmp_path: Path
) -> None:
    shutil.copy(MIGRATIONS / "0001_create_organisations.sql", tmp_path)
    await migrate(fresh_database, [*service_migrations("directory", tmp_path)])
    org_id = uuid.uuid4()
    conn = await asyncpg.connect(fresh_database)
    try:
        await conn.execute(
            """INSERT INTO organisations (id, name, org_type, coverage, topics, updated_by)
               VALUES ($1, 'old', 'NPO', '{131041}', '{LONELY}', 'op')""",
            org_id,
        )
        applied = await migrate(fresh_database, service_migrations("directory", MIGRATIONS))
        row = await conn.fetchrow(
            "SELECT organisation_id, coverage, topics FROM services WHERE id = $1", org_id
        )
    finally:
        await conn.close()

    # Every migration after the first (more may come), from 0002 on.
    assert applied == [f"directory/{p.name}" for p in sorted(MIGRATIONS.glob("*.sql"))][1:]
    assert applied[0] == "directory/0002_hsds_register.sql"
    assert (row["organisation_id"], row["coverage"], row["topics"]) == (org_id, ["131041"], ["LONELY"])


async def test_the_listing_query_finds_exact_city_prefecture_and_national_coverage_only(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    names = {}
    for name, coverage in [
        ("ward", (KITA_OSAKA,)),
        ("city", (OSAKA,)),
        ("prefecture", ("27",)),
        ("national", ("JP",)),
        ("other ward", ("271020",)),
        ("tokyo", ("13",)),
    ]:
        organisation, _ = await registrar(name, coverage)
        names[organisation.id] = name
    await registrar("inactive", (KITA_OSAKA,), org={"active": False})

    async with pool.acquire() as conn:
        found = await matching.find_listings(conn, area=area_keys(KITA_OSAKA, OSAKA))
        with_inactive = await matching.find_listings(
            conn, area=area_keys(KITA_OSAKA, OSAKA), include_inactive=True
        )

    assert sorted(names[x.organisation.id] for x in found) == ["city", "national", "prefecture", "ward"]
    assert len(with_inactive) == 5


async def test_the_listing_query_uses_the_gin_index_on_service_areas(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    for i in range(300):
        await registrar(f"org {i}", (f"{i % 47 + 1:02d}",))
    async with pool.acquire() as conn:
        await conn.execute("ANALYZE services")
        await conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "EXPLAIN SELECT id FROM services WHERE coverage && $1::text[]", list(area_keys(SHINJUKU))
            )
        )

    assert "services_coverage" in plan


async def test_an_organisation_and_its_service_round_trip_with_every_field(pool: asyncpg.Pool) -> None:
    now = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    org_id = uuid.uuid4()
    organisation = Organisation(
        id=org_id,
        name="【サンプル】ひだまり",
        org_type=OrgType.NPO,
        webhook_url="https://partner.example/hook",
        email="alerts@partner.example",
        description="居場所と面談",
        alternate_name="ひだまり",
        website="https://partner.example/",
        corporate_number="7000012050002",
        channels=(Channel.WEBHOOK, Channel.EMAIL),
        portal_url="https://portal.example/",
    )
    service = Service(
        id=uuid.uuid4(),
        organisation_id=org_id,
        name="面談",
        coverage=(SHINJUKU, "13"),
        topics=(Topic.LONELY, Topic.POVERTY),
        capabilities=frozenset({Capability.INTERVIEW, Capability.ACCOMPANY}),
        languages=("ja", "en"),
        eligibility=Eligibility(18, 39, frozenset({Gender.FEMALE}), Residency.RESIDENT),
        schedules=(weekly(["MO", "WE"], "10:00", "18:00"), weekly(["FR"], "20:00", "06:00")),
        capacity=Capacity(3, 5, now, now, "referrals", "月あたり"),
        status=ServiceStatus.ACTIVE,
        description="対面での面談",
    )
    async with pool.acquire() as conn:
        await repository.insert_organisation(conn, organisation=organisation, updated_by="op")
        await repository.upsert_service(conn, service=service, updated_by="op")
        got_org = await repository.get_organisation(conn, organisation_id=org_id)
        got_service = await repository.get_service(conn, service_id=service.id)

    assert got_org is not None and got_org[0] == organisation
    assert got_service is not None and got_service[0] == service
