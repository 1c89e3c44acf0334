"""An operator acts on a referral nobody took, over a real database: the re-offer request, the
directory's answer applied as the consumer applies it, the new attempt with its timer and offer,
and "handled elsewhere" with the operator's note kept out of every event."""

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from contracts.events import Candidate, ReofferMatched, ReofferUnmatched
from eventkit.auth import generate_signing_keypair
from eventkit.testing import bearer, consume, outbox_rows
from referral.lifecycle import notes
from referral.lifecycle.domain import Referral
from referral.lifecycle.handlers import bind
from referral.lifecycle.service import Lifecycle

CHOSEN = uuid.uuid4()
PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()


@pytest.fixture
def auth_public_key() -> str:
    """The key of this module's tokens, for conftest's `client` (the real app, none of its loops)."""
    return PUBLIC_KEY


async def unmatched(pool: asyncpg.Pool, seed: Any) -> Referral:
    referral: Referral = await seed(pool)
    await pool.execute("UPDATE referrals SET state = 'unmatched' WHERE id = $1", referral.id)
    return referral


async def payloads(pool: asyncpg.Pool, event_type: str) -> list[dict[str, Any]]:
    return [row["payload"] for row in await outbox_rows(pool) if row["event_type"] == event_type]


async def test_an_operators_choice_confirmed_by_the_directory_becomes_the_next_attempt(
    pool: asyncpg.Pool, client: httpx.AsyncClient, lifecycle: Lifecycle, seed: Any
) -> None:
    referral = await unmatched(pool, seed)

    asked = await client.post(
        f"/v1/referrals/{referral.id}/reoffer",
        json={"organisation_id": str(CHOSEN)},
        headers=bearer(PRIVATE_KEY, "operator"),
    )

    assert asked.status_code == 202, asked.text
    assert (asked.json()["state"], asked.json()["reoffer_organisation_id"]) == ("unmatched", str(CHOSEN))
    [request] = await payloads(pool, "referral.reoffer_requested.v1")
    assert (request["organisation_id"], request["need_tags"]) == (str(CHOSEN), ["MON", "ISO"])

    organisation = Candidate(
        organisation_id=CHOSEN,
        rank=1,
        tier="national",
        reasons=("operator_choice",),
        name="よりそい",
        channels=("portal",),
    )
    await consume(
        pool,
        bind(lifecycle),
        ReofferMatched(
            case_id=referral.case_id,
            referral_id=referral.id,
            request_id=uuid.UUID(request["request_id"]),
            organisation=organisation,
            matched_at=lifecycle.clock(),
        ),
    )

    read = await client.get(f"/v1/referrals/{referral.id}", headers=bearer(PRIVATE_KEY, "operator"))
    body = read.json()
    assert (body["state"], body["attempt"], body["organisation_id"]) == ("offered", 1, str(CHOSEN))
    assert body["reoffer_organisation_id"] is None and body["deadline_at"] is not None
    assert [e["state"] for e in body["timeline"]][-3:] == ["reoffer_requested", "matched", "offered"]
    assert body["timeline"][-3]["actor"] == "operator-1"
    [offer] = await payloads(pool, "handoff.offered.v2")
    assert (offer["attempt"], offer["organisation"]["organisation_id"]) == (1, str(CHOSEN))
    timers = await pool.fetchval("SELECT count(*) FROM handoff_timers WHERE referral_id = $1", referral.id)
    assert timers == 1
    # Once offered, the operator has nothing more to do on it.
    again = await client.post(
        f"/v1/referrals/{referral.id}/reoffer",
        json={"organisation_id": str(CHOSEN)},
        headers=bearer(PRIVATE_KEY, "operator"),
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "illegal_transition")


async def test_a_refused_choice_leaves_the_referral_for_the_operator_to_choose_again(
    pool: asyncpg.Pool, client: httpx.AsyncClient, lifecycle: Lifecycle, seed: Any
) -> None:
    referral = await unmatched(pool, seed)
    await client.post(
        f"/v1/referrals/{referral.id}/reoffer",
        json={"organisation_id": str(CHOSEN)},
        headers=bearer(PRIVATE_KEY, "operator"),
    )
    [request] = await payloads(pool, "referral.reoffer_requested.v1")

    refused = ReofferUnmatched(
        case_id=referral.case_id,
        referral_id=referral.id,
        request_id=uuid.UUID(request["request_id"]),
        organisation_id=CHOSEN,
        reasons=("inactive",),
        unmatched_at=lifecycle.clock(),
    )
    await consume(pool, bind(lifecycle), refused)

    body = (await client.get(f"/v1/referrals/{referral.id}", headers=bearer(PRIVATE_KEY, "operator"))).json()
    assert (body["state"], body["reoffer_organisation_id"]) == ("unmatched", None)
    assert body["timeline"][-1]["state"] == "reoffer_refused"
    assert body["timeline"][-1]["detail"]["reasons"] == ["inactive"]
    assert set(body["actions"]) == {"withdrawn", "reoffered", "handled_elsewhere"}


async def test_handled_elsewhere_keeps_the_note_in_referrals_database_and_out_of_the_event(
    pool: asyncpg.Pool, client: httpx.AsyncClient, seed: Any, lifecycle: Lifecycle
) -> None:
    referral = await unmatched(pool, seed)
    note = "新宿区の福祉課に電話で引き継いだ (担当 山田)"

    done = await client.post(
        f"/v1/referrals/{referral.id}/handled-elsewhere",
        json={"reason": "partner_by_phone", "note": note},
        headers=bearer(PRIVATE_KEY, "operator"),
    )

    assert done.status_code == 200, done.text
    assert done.json()["state"] == "handled_elsewhere"
    [event] = await payloads(pool, "referral.handled_elsewhere.v1")
    assert event["reason"] == "partner_by_phone" and note not in str(event)
    stored = await pool.fetchrow(
        "SELECT referral_id, note, note_enc, written_by FROM handled_elsewhere_notes"
    )
    assert (stored["note"], stored["written_by"]) == (None, "operator-1")
    assert lifecycle.notes is not None and note not in stored["note_enc"]
    context = notes.handled_elsewhere_context(stored["referral_id"])
    assert lifecycle.notes.decrypt(stored["note_enc"], context=context) == note
    timeline = await pool.fetch(
        "SELECT detail::text AS d FROM referral_timeline WHERE referral_id = $1", referral.id
    )
    assert all(note not in row["d"] for row in timeline)


async def test_only_operators_act_and_bad_input_is_a_clear_4xx(
    pool: asyncpg.Pool, client: httpx.AsyncClient, seed: Any
) -> None:
    referral = await unmatched(pool, seed)
    path = f"/v1/referrals/{referral.id}"

    counsellor = await client.post(
        f"{path}/reoffer", json={"organisation_id": str(CHOSEN)}, headers=bearer(PRIVATE_KEY, "counsellor")
    )
    unknown_reason = await client.post(
        f"{path}/handled-elsewhere", json={"reason": "magic"}, headers=bearer(PRIVATE_KEY, "operator")
    )
    no_org = await client.post(f"{path}/reoffer", json={}, headers=bearer(PRIVATE_KEY, "operator"))

    assert counsellor.status_code == 403
    assert (unknown_reason.status_code, no_org.status_code) == (422, 422)
    assert unknown_reason.json()["error"]["details"][0]["field"] == "body.reason"
