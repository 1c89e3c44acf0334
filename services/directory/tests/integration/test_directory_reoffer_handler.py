"""directory answers an operator's choice of organisation on real PostgreSQL, in the consumer's
transaction: the organisation (with its phone kept in the register) as a candidate, or a refusal."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from contracts.events import ReofferRequested
from contracts.hours import JST
from directory.context import Context
from directory.handlers import build_handlers
from directory.register import repository
from eventkit.testing import consume, outbox_rows

from ..builders import reoffer_request

SHINJUKU, NAHA = "131041", "472018"
WEDNESDAY_11 = datetime(2026, 3, 4, 11, 0, tzinfo=JST)
HANDLERS = build_handlers(Context(clock=lambda: WEDNESDAY_11))


def choice(organisation_id: uuid.UUID) -> ReofferRequested:
    return reoffer_request(organisation_id, requested_at=WEDNESDAY_11, municipality_code=SHINJUKU)


async def answer(pool: asyncpg.Pool, event: ReofferRequested) -> dict[str, Any]:
    await consume(pool, HANDLERS, event)
    [row] = await outbox_rows(pool)
    return row


async def test_an_organisation_in_another_area_is_confirmed_with_its_channels_and_phone_kept(
    pool: asyncpg.Pool, registrar: Any
) -> None:
    naha, _ = await registrar("那覇の団体", (NAHA,), org={"phone": "098-000-0000"})

    row = await answer(pool, choice(naha.id))

    assert (row["topic"], row["event_type"]) == ("directory.matches.v1", "referral.reoffer_matched.v1")
    organisation = row["payload"]["organisation"]
    assert organisation["organisation_id"] == str(naha.id)
    assert organisation["webhook_url"] == naha.webhook_url
    assert organisation["reasons"][:2] == ["operator_choice", "ranking_excluded:out_of_area"]
    async with pool.acquire() as conn:
        stored = await repository.get_organisation(conn, organisation_id=naha.id)
    assert stored is not None and stored[0].phone == "098-000-0000"


async def test_an_inactive_or_unknown_organisation_is_refused(pool: asyncpg.Pool, registrar: Any) -> None:
    closed, _ = await registrar("閉鎖した団体", (SHINJUKU,), org={"active": False})

    row = await answer(pool, choice(closed.id))
    assert row["event_type"] == "referral.reoffer_unmatched.v1"
    assert row["payload"]["reasons"] == ["inactive"]

    await pool.execute("DELETE FROM outbox")
    unknown = await answer(pool, choice(uuid.uuid4()))
    assert unknown["payload"]["reasons"] == ["unknown_organisation"]
