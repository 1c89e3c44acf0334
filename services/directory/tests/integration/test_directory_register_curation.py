"""The operators' upkeep of the register on real PostgreSQL: searching the whole register, the
"last verified" date (set by a person, carried by HSDS export and import) and the stale flag."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from contracts.vocabulary import Topic
from directory.context import Context
from directory.curation import service as curation
from directory.curation.domain import RegisterQuery
from directory.hsds import service as hsds
from directory.hsds.mapping import without_metadata
from directory.hsds.models import RegisterIO
from directory.paging import PageRequest
from directory.register.domain import Capability, OrgType
from eventkit.auth import Principal, Role
from eventkit.clock import MovableClock
from eventkit.errors import NotFound

SHINJUKU = "131041"
OSAKA_KITA = "271276"
OPERATOR = Principal(subject="op-1", role=Role.OPERATOR)
START = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)


def context(clock: MovableClock, days: int = 180) -> Context:
    return Context(clock=clock, verification_stale_after=timedelta(days=days))


@pytest.fixture
def clock() -> MovableClock:
    """The register's idea of now: START, until a test moves it."""
    return MovableClock(START)


@pytest.fixture
def ctx(clock: MovableClock) -> Context:
    """The register on `clock`, where an entry goes stale 180 days after it was last confirmed."""
    return context(clock)


async def names(pool: asyncpg.Pool, ctx: Context, **query: Any) -> list[str]:
    found = await curation.search(pool, context=ctx, query=RegisterQuery(**query), page=PageRequest(1, 500))
    return [r.organisation.name for r in found.items]


async def test_the_search_pages_through_the_whole_register_not_its_first_two_hundred(
    pool: asyncpg.Pool, registrar: Any, ctx: Context
) -> None:
    for i in range(230):
        await registrar(f"団体{i:03d}", (SHINJUKU,))

    last = await curation.search(pool, context=ctx, query=RegisterQuery(), page=PageRequest(5, 50))
    assert last.total == 230
    assert [r.organisation.name for r in last.items] == [f"団体{i:03d}" for i in range(200, 230)]
    assert await names(pool, ctx, text="団体229") == ["団体229"]


async def test_the_search_filters_by_name_area_type_capability_topic_and_state(
    pool: asyncpg.Pool, registrar: Any, ctx: Context
) -> None:
    shelter, _ = await registrar(
        "Shinjuku NPO Shelter",
        (SHINJUKU,),
        org={"org_type": OrgType.DV_CENTER},
        capabilities=frozenset({Capability.SHELTER, Capability.ACCOMPANY}),
        topics=(Topic.WOMEN,),
    )
    await registrar("東京都ひきこもり地域支援センター", ("13",), org={"org_type": OrgType.HIKIKOMORI})
    await registrar("全国の電話相談", ("JP",), capabilities=frozenset({Capability.MULTILINGUAL}))
    await registrar("大阪市北区社会福祉協議会", (OSAKA_KITA,), org={"org_type": OrgType.SHAKYO})
    closed, _ = await registrar("閉じた団体", (SHINJUKU,), org={"active": False})

    # Width- and case-blind in the name; a whole id finds its organisation.
    assert await names(pool, ctx, text="ｓｈｉｎｊｕｋｕ npo") == ["Shinjuku NPO Shelter"]
    assert await names(pool, ctx, text=str(closed.id)) == ["閉じた団体"]
    # An area is whoever reaches it: the municipality, its prefecture, all Japan.
    assert await names(pool, ctx, area=curation.area_of(ctx, SHINJUKU)) == [
        "Shinjuku NPO Shelter",
        "全国の電話相談",
        "東京都ひきこもり地域支援センター",
        "閉じた団体",
    ]
    assert await names(pool, ctx, prefecture="27") == ["全国の電話相談", "大阪市北区社会福祉協議会"]
    assert await names(pool, ctx, org_type=OrgType.SHAKYO) == ["大阪市北区社会福祉協議会"]
    # Capabilities and area must meet in one service.
    assert await names(
        pool, ctx, capabilities=frozenset({Capability.SHELTER, Capability.ACCOMPANY}), prefecture="13"
    ) == ["Shinjuku NPO Shelter"]
    assert await names(pool, ctx, capabilities=frozenset({Capability.SHELTER}), prefecture="27") == []
    assert "Shinjuku NPO Shelter" not in await names(pool, ctx, topic=Topic.LONELY)
    assert await names(pool, ctx, active=False) == ["閉じた団体"]
    assert shelter.id not in [r.organisation.id for r in await _window(pool, ctx, active=False)]


async def _window(pool: asyncpg.Pool, ctx: Context, **query: Any) -> list[Any]:
    return await curation.search_window(pool, context=ctx, query=RegisterQuery(**query), limit=10, offset=0)


async def test_an_entry_is_stale_until_confirmed_and_again_once_the_configured_time_passes(
    pool: asyncpg.Pool, registrar: Any, clock: MovableClock, ctx: Context
) -> None:
    confirmed, _ = await registrar("確認済みの団体", (SHINJUKU,))
    await registrar("未確認の団体", (SHINJUKU,))

    record = await curation.verify(pool, context=ctx, principal=OPERATOR, organisation_id=confirmed.id)
    assert record.verified is not None
    assert (record.verified.at, record.verified.by, record.stale) == (START, "op-1", False)
    assert await names(pool, ctx, stale=True) == ["未確認の団体"]
    assert await names(pool, ctx, stale=False) == ["確認済みの団体"]

    clock.advance(days=180)
    assert await names(pool, ctx, stale=True) == ["未確認の団体"]
    clock.advance(days=1)
    assert await names(pool, ctx, stale=True) == ["未確認の団体", "確認済みの団体"]
    found = await _window(pool, ctx, text="確認済み")
    assert found[0].stale is True
    # The time is the deployment's to choose.
    assert await names(pool, context(clock, days=365), stale=True) == ["未確認の団体"]

    logged = await pool.fetch(
        "SELECT last_action_type, field_name, previous_value, updated_by FROM change_log "
        "WHERE resource_id = $1 AND last_action_type = 'verify'",
        confirmed.id,
    )
    assert [tuple(r) for r in logged] == [("verify", "last_verified_at", "", "op-1")]


async def test_a_partner_confirms_only_its_own_entry(
    pool: asyncpg.Pool, registrar: Any, ctx: Context
) -> None:
    own, _ = await registrar("自分の団体", (SHINJUKU,))
    other, _ = await registrar("他の団体", (SHINJUKU,))
    partner = Principal(subject="partner-1", role=Role.PARTNER, organisation_id=own.id)

    record = await curation.verify(pool, context=ctx, principal=partner, organisation_id=own.id)
    assert record.verified is not None and record.verified.by == "partner-1"
    with pytest.raises(NotFound):
        await curation.verify(pool, context=ctx, principal=partner, organisation_id=other.id)
    with pytest.raises(NotFound):
        await curation.verify(pool, context=ctx, principal=OPERATOR, organisation_id=uuid.uuid4())


async def test_the_last_verified_date_survives_export_and_import_and_is_never_moved_back(
    pool: asyncpg.Pool, registrar: Any, clock: MovableClock, ctx: Context
) -> None:
    org, _ = await registrar("確認済みの団体", (SHINJUKU,))
    await curation.verify(pool, context=ctx, principal=OPERATOR, organisation_id=org.id)

    exported = (await hsds.export_hsds(pool)).model_dump(mode="json")
    entry = exported["organizations"][0]
    assert entry["x_tsunagu"]["last_verified_at"] == "2026-03-04T02:00:00Z"
    assert entry["x_tsunagu"]["last_verified_by"] == "op-1"
    assert entry["services"][0]["assured_date"] == "2026-03-04"  # Japan's date of 11:00 JST

    # Into an empty register: the confirmation comes with the entry.
    await pool.execute("UPDATE organisations SET last_verified_at = NULL, last_verified_by = NULL")
    await hsds.import_hsds(
        pool, context=ctx, principal=OPERATOR, document=RegisterIO.model_validate(exported)
    )
    again = await _window(pool, ctx)
    assert again[0].verified is not None
    assert (again[0].verified.at, again[0].verified.by) == (START, "op-1")
    round_trip = (await hsds.export_hsds(pool)).model_dump(mode="json")
    assert without_metadata(round_trip) == without_metadata(exported)

    # A later confirmation is not undone by importing the older document again; the same document
    # imported twice logs nothing.
    clock.advance(days=10)
    await curation.verify(pool, context=ctx, principal=OPERATOR, organisation_id=org.id)
    summary = await hsds.import_hsds(
        pool, context=ctx, principal=OPERATOR, document=RegisterIO.model_validate(exported)
    )
    assert summary.changed_fields == 0
    latest = await _window(pool, ctx)
    assert latest[0].verified is not None and latest[0].verified.at == START + timedelta(days=10)


async def test_an_hsds_file_with_only_an_assured_date_confirms_the_entry_from_that_day_in_japan(
    pool: asyncpg.Pool, registrar: Any, ctx: Context
) -> None:
    org, _ = await registrar("他所から来た団体", (SHINJUKU,))
    document = (await hsds.export_hsds(pool)).model_dump(mode="json")
    document["organizations"][0]["services"][0]["assured_date"] = "2025-12-01"

    await hsds.import_hsds(
        pool, context=ctx, principal=OPERATOR, document=RegisterIO.model_validate(document)
    )
    found = await _window(pool, ctx)
    assert found[0].organisation.id == org.id
    assert found[0].verified is not None
    assert found[0].verified.at == datetime(2025, 11, 30, 15, 0, tzinfo=UTC)  # 2025-12-01 00:00 JST
    assert found[0].verified.by == "op-1"
    assert found[0].stale is False
