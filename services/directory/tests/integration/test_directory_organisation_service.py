"""The register's use cases on real PostgreSQL: upsert, read rules, soft delete, dry run."""

import asyncio
import dataclasses
import uuid

import asyncpg
import pytest

from contracts.vocabulary import Severity, Topic
from directory import service
from directory.domain import Organisation, OrgType, ReferralNeeds
from eventkit.auth import Principal, Role
from eventkit.errors import ApiError

pytestmark = pytest.mark.integration

SHINJUKU = "131041"
OPERATOR = Principal(subject="op-1", role=Role.OPERATOR)
COUNSELLOR = Principal(subject="cn-1", role=Role.COUNSELLOR)


def organisation(**fields: object) -> Organisation:
    base = Organisation(
        id=uuid.uuid4(),
        name="新宿区社会福祉協議会",
        org_type=OrgType.SHAKYO,
        coverage=(SHINJUKU,),
        topics=(Topic.LONELY,),
        webhook_url="https://partner.example/hooks/1",
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


async def test_put_creates_then_replaces_every_field(pool: asyncpg.Pool) -> None:
    first = organisation()
    created, was_created = await service.put_organisation(pool, principal=OPERATOR, organisation=first)
    second = dataclasses.replace(first, name="新宿区社協", coverage=("13",), topics=(), webhook_url=None)
    other_operator = Principal(subject="op-2", role=Role.OPERATOR)

    updated, second_created = await service.put_organisation(
        pool, principal=other_operator, organisation=second
    )

    assert (was_created, second_created) == (True, False)
    assert created.organisation == first
    assert updated.organisation == second
    assert updated.created_at == created.created_at
    assert updated.updated_at > created.updated_at
    assert (created.updated_by, updated.updated_by) == ("op-1", "op-2")


async def test_concurrent_puts_of_a_new_id_end_as_one_create_and_one_update(pool: asyncpg.Pool) -> None:
    same = organisation()

    results = await asyncio.gather(
        service.put_organisation(pool, principal=OPERATOR, organisation=same),
        service.put_organisation(pool, principal=OPERATOR, organisation=same),
    )

    assert sorted(created for _, created in results) == [False, True]


async def test_create_stores_under_the_given_new_id(pool: asyncpg.Pool) -> None:
    new = organisation()

    record = await service.create_organisation(pool, principal=OPERATOR, organisation=new)

    assert record.organisation.id == new.id
    fetched = await service.get_organisation(pool, principal=COUNSELLOR, organisation_id=new.id)
    assert fetched.organisation == new


async def test_partner_reads_its_own_organisation(pool: asyncpg.Pool) -> None:
    own = organisation()
    await service.put_organisation(pool, principal=OPERATOR, organisation=own)
    partner = Principal(subject="partner-1", role=Role.PARTNER, organisation_id=own.id)

    record = await service.get_organisation(pool, principal=partner, organisation_id=own.id)

    assert record.organisation.id == own.id


async def test_partner_cannot_read_another_partners_organisation(pool: asyncpg.Pool) -> None:
    own, other = organisation(), organisation(name="別の団体")
    for o in (own, other):
        await service.put_organisation(pool, principal=OPERATOR, organisation=o)
    partner = Principal(subject="partner-1", role=Role.PARTNER, organisation_id=own.id)

    with pytest.raises(ApiError) as caught:
        await service.get_organisation(pool, principal=partner, organisation_id=other.id)

    assert caught.value.status == 404


async def test_an_unknown_organisation_is_not_found(pool: asyncpg.Pool) -> None:
    with pytest.raises(ApiError) as read:
        await service.get_organisation(pool, principal=OPERATOR, organisation_id=uuid.uuid4())
    with pytest.raises(ApiError) as deleted:
        await service.deactivate_organisation(pool, principal=OPERATOR, organisation_id=uuid.uuid4())

    assert (read.value.status, deleted.value.status) == (404, 404)


async def test_delete_only_deactivates_and_may_be_repeated(pool: asyncpg.Pool) -> None:
    kept = organisation()
    await service.put_organisation(pool, principal=OPERATOR, organisation=kept)

    await service.deactivate_organisation(pool, principal=OPERATOR, organisation_id=kept.id)
    await service.deactivate_organisation(pool, principal=OPERATOR, organisation_id=kept.id)

    record = await service.get_organisation(pool, principal=OPERATOR, organisation_id=kept.id)
    assert not record.organisation.active
    listed = await service.list_organisations(
        pool, municipality_code=SHINJUKU, topic=None, active=True, limit=10, offset=0
    )
    assert listed == []


async def test_a_put_can_reactivate_a_deleted_organisation(pool: asyncpg.Pool) -> None:
    kept = organisation()
    await service.put_organisation(pool, principal=OPERATOR, organisation=kept)
    await service.deactivate_organisation(pool, principal=OPERATOR, organisation_id=kept.id)

    record, _ = await service.put_organisation(pool, principal=OPERATOR, organisation=kept)

    assert record.organisation.active


async def test_the_list_pages_by_name(pool: asyncpg.Pool) -> None:
    for name in ("C", "A", "B"):
        await service.put_organisation(pool, principal=OPERATOR, organisation=organisation(name=name))

    async def page(offset: int) -> list[str]:
        found = await service.list_organisations(
            pool, municipality_code=None, topic=None, active=None, limit=2, offset=offset
        )
        return [r.organisation.name for r in found]

    assert (await page(0), await page(2)) == (["A", "B"], ["C"])


async def test_a_dry_run_ranks_and_explains_without_storing_anything(pool: asyncpg.Pool) -> None:
    local = organisation(name="local")
    prefecture = organisation(name="tokyo", coverage=("13",), topics=())
    closed = organisation(name="closed")
    women_only = organisation(name="women", topics=(Topic.WOMEN,))
    for o in (local, prefecture, closed, women_only):
        await service.put_organisation(pool, principal=OPERATOR, organisation=o)
    await service.deactivate_organisation(pool, principal=OPERATOR, organisation_id=closed.id)

    result = await service.dry_run(
        pool, needs=ReferralNeeds(topic=Topic.LONELY, municipality_code=SHINJUKU, severity=Severity.S3)
    )

    assert [(c.organisation.id, c.tier.value) for c in result.candidates] == [
        (local.id, "municipality"),
        (prefecture.id, "prefecture"),
    ]
    assert {(e.organisation_id, e.reason) for e in result.excluded} == {
        (closed.id, "inactive"),
        (women_only.id, "topic_not_handled"),
    }
    assert await pool.fetchval("SELECT count(*) FROM matches") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
