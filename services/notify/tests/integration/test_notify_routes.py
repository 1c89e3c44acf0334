import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from contracts.events import OfferedOrganisation
from contracts.vocabulary import AgeBand, IssueTag, OutcomeStage, Topic
from eventkit.auth import generate_signing_keypair
from eventkit.crypto import Keyring
from eventkit.testing import bearer
from notify.alerts import service
from notify.alerts.domain import AlertState, AttemptMoved, StepRecorded
from notify.alerts.handlers import offer_of
from notify.deliveries import repository

from ..builders import handoff_offered

PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()
ORG_A = uuid.uuid4()
ORG_B = uuid.uuid4()


@pytest.fixture
def auth_public_key() -> str:
    """The key of this module's tokens, for conftest's `client` (the real app, none of its loops)."""
    return PUBLIC_KEY


@pytest.fixture
def keyring(keys: str) -> Keyring:
    return Keyring(keys)


OPERATOR = bearer(PRIVATE_KEY, "operator")
PARTNER_A = bearer(PRIVATE_KEY, "partner", ORG_A)
PARTNER_B = bearer(PRIVATE_KEY, "partner", ORG_B)
COUNSELLOR = bearer(PRIVATE_KEY, "counsellor")


async def queue_delivery(
    pool: asyncpg.Pool,
    organisation_id: uuid.UUID,
    deadline_in_min: int = 30,
    *,
    deadline_at: datetime | None = None,
) -> str:
    now = datetime.now(UTC)
    event = handoff_offered(
        at=now,
        organisation=OfferedOrganisation(
            organisation_id=organisation_id, name="sample", webhook_url="http://127.0.0.1:9/h"
        ),
        topic=Topic.POVERTY,
        municipality_code="131016",
        deadline_at=deadline_at or now + timedelta(minutes=deadline_in_min),
        need_tags=(IssueTag.MON, IssueTag.HOU),
        age_band=AgeBand.SENIOR,
        language="ko",
    )
    async with pool.acquire() as conn, conn.transaction():
        assert await service.offer_handoff(conn, offer_of(event))
    return f"{event.referral_id}:{organisation_id}:1"


# ---- webhook secrets -------------------------------------------------------------------------


async def test_an_operator_issues_a_secret_that_is_shown_once_and_stored_encrypted(
    client: httpx.AsyncClient, pool: asyncpg.Pool, keyring: Keyring
) -> None:
    response = await client.post(f"/v1/partners/{ORG_A}/webhook-secret", headers=OPERATOR)

    assert response.status_code == 201
    body = response.json()
    assert body["organisation_id"] == str(ORG_A)
    assert body["secret"].startswith("whsec_")
    assert body["rotated"] is False
    assert body["signature_tolerance_s"] == 300
    assert response.headers["cache-control"] == "no-store"
    stored = await pool.fetchval("SELECT secret_enc FROM partner_secrets WHERE organisation_id = $1", ORG_A)
    assert body["secret"] not in stored
    assert keyring.decrypt(stored, context=str(ORG_A)) == body["secret"]


async def test_issuing_again_rotates_the_secret(client: httpx.AsyncClient) -> None:
    first = await client.post(f"/v1/partners/{ORG_A}/webhook-secret", headers=OPERATOR)
    second = await client.post(f"/v1/partners/{ORG_A}/webhook-secret", headers=OPERATOR)

    assert second.status_code == 201
    assert second.json()["rotated"] is True
    assert second.json()["secret"] != first.json()["secret"]


async def test_only_an_operator_may_issue_a_secret(client: httpx.AsyncClient) -> None:
    as_partner = await client.post(f"/v1/partners/{ORG_A}/webhook-secret", headers=PARTNER_A)
    anonymous = await client.post(f"/v1/partners/{ORG_A}/webhook-secret")

    assert as_partner.status_code == 403
    assert as_partner.json()["error"]["code"] == "forbidden"
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "missing_token"


async def test_a_malformed_organisation_id_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/partners/not-a-uuid/webhook-secret", headers=OPERATOR)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "path.organisation_id"


# ---- reading deliveries ----------------------------------------------------------------------


async def test_an_operator_lists_every_delivery_and_filters_them(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    a = await queue_delivery(pool, ORG_A)
    b = await queue_delivery(pool, ORG_B)

    everything = await client.get("/v1/deliveries", headers=OPERATOR)
    only_b = await client.get("/v1/deliveries", params={"organisation_id": str(ORG_B)}, headers=OPERATOR)
    delivered = await client.get("/v1/deliveries", params={"status": "delivered"}, headers=OPERATOR)

    assert everything.status_code == 200
    assert {d["delivery_id"] for d in everything.json()} == {a, b}
    assert [d["delivery_id"] for d in only_b.json()] == [b]
    assert delivered.json() == []
    item = only_b.json()[0]
    assert item["status"] == "pending"
    assert item["channel"] == "webhook"
    assert item["body"]["links"] == {"referral": f"https://notify.example/v1/deliveries/{b}"}  # no link


async def test_a_partner_lists_only_its_own_deliveries(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    mine = await queue_delivery(pool, ORG_A)
    await queue_delivery(pool, ORG_B)

    own = await client.get("/v1/deliveries", headers=PARTNER_A)
    asking_for_another = await client.get(
        "/v1/deliveries", params={"organisation_id": str(ORG_B)}, headers=PARTNER_A
    )

    assert [d["delivery_id"] for d in own.json()] == [mine]
    assert asking_for_another.status_code == 200
    assert asking_for_another.json() == []


async def test_a_partner_reads_its_own_delivery_with_every_try(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    delivery_id = await queue_delivery(pool, ORG_A)
    async with pool.acquire() as conn:
        stored = await repository.get_delivery(conn, delivery_id=delivery_id)
        assert stored is not None
        await repository.record_attempt(
            conn,
            delivery_uuid=stored.id,
            try_no=1,
            at=datetime.now(UTC),
            http_status=503,
            error="http_503",
            duration_ms=12,
        )

    response = await client.get(f"/v1/deliveries/{delivery_id}", headers=PARTNER_A)

    assert response.status_code == 200
    body = response.json()
    assert body["delivery_id"] == delivery_id
    assert body["organisation_id"] == str(ORG_A)
    assert [(a["try_no"], a["http_status"], a["error"], a["duration_ms"]) for a in body["attempts"]] == [
        (1, 503, "http_503", 12)
    ]


async def test_partner_cannot_read_another_partners_delivery(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    delivery_id = await queue_delivery(pool, ORG_A)

    as_other = await client.get(f"/v1/deliveries/{delivery_id}", headers=PARTNER_B)
    unknown = await client.get(f"/v1/deliveries/{uuid.uuid4()}:{ORG_B}:1", headers=PARTNER_B)
    as_operator = await client.get(f"/v1/deliveries/{delivery_id}", headers=OPERATOR)

    assert as_other.status_code == 404
    assert as_other.json() == unknown.json()  # indistinguishable from a missing one
    assert as_operator.status_code == 200


async def test_a_counsellor_may_not_read_deliveries(client: httpx.AsyncClient) -> None:
    listed = await client.get("/v1/deliveries", headers=COUNSELLOR)

    assert listed.status_code == 403


async def test_bad_filters_are_a_422(client: httpx.AsyncClient) -> None:
    for params in ({"status": "lost"}, {"limit": "0"}, {"limit": "201"}, {"referral_id": "x"}):
        response = await client.get("/v1/deliveries", params=params, headers=OPERATOR)
        assert response.status_code == 422, params
        assert response.json()["error"]["code"] == "validation_failed"


# ---- the partner portal's inbox --------------------------------------------------------------


async def test_a_partner_sees_its_own_alerts_with_deadline_state_and_where_to_answer(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    mine = await queue_delivery(pool, ORG_A)
    overdue = await queue_delivery(pool, ORG_A, deadline_in_min=-1)
    await queue_delivery(pool, ORG_B)

    response = await client.get("/v1/portal/inbox", headers=PARTNER_A)

    assert response.status_code == 200
    items = {item["alert_key"]: item for item in response.json()}
    assert set(items) == {mine, overdue}
    item = items[mine]
    referral_id = mine.split(":")[0]
    assert (item["state"], item["overdue"], item["attempt"], item["severity"]) == ("offered", False, 1, "S3")
    assert item["channels"] == {"webhook": "pending"}
    assert item["actions"] == {
        "acknowledge": f"https://referral.example/v1/referrals/{referral_id}/attempts/1/acknowledge",
        "decline": f"https://referral.example/v1/referrals/{referral_id}/attempts/1/decline",
    }
    assert items[overdue]["overdue"] is True
    assert "sample" not in response.text  # codes only


async def test_the_inbox_says_what_the_case_needs_where_and_the_deadline_in_japan_time(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    deadline = datetime(2026, 12, 4, 12, 30, 59, tzinfo=UTC)
    key = await queue_delivery(pool, ORG_A, deadline_at=deadline)

    [item] = (await client.get("/v1/portal/inbox", headers=PARTNER_A)).json()

    assert item["alert_key"] == key
    assert (item["need_tags"], item["age_band"], item["language"]) == (["MON", "HOU"], "65+", "ko")
    assert (item["municipality_code"], item["municipality_name"]) == ("131016", "東京都千代田区")
    assert datetime.fromisoformat(item["deadline_at"]) == deadline
    assert item["deadline_at_jst"] == "2026-12-04T21:30+09:00"


async def test_the_inbox_narrows_to_one_referral_of_the_partners_own(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    mine = await queue_delivery(pool, ORG_A)
    await queue_delivery(pool, ORG_A)
    theirs = await queue_delivery(pool, ORG_B)

    one = await client.get("/v1/portal/inbox", params={"referral_id": mine.split(":")[0]}, headers=PARTNER_A)
    another = await client.get(
        "/v1/portal/inbox", params={"referral_id": theirs.split(":")[0]}, headers=PARTNER_A
    )

    assert [item["alert_key"] for item in one.json()] == [mine]
    assert another.json() == []  # another organisation's referral is not in this inbox


async def test_a_delivery_read_through_the_api_carries_the_case_codes_without_the_link(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    delivery_id = await queue_delivery(pool, ORG_A)

    body = (await client.get(f"/v1/deliveries/{delivery_id}", headers=PARTNER_A)).json()["body"]

    assert (body["need_tags"], body["age_band"], body["language"]) == (["MON", "HOU"], "65+", "ko")
    assert body["municipality_name"] == "東京都千代田区"
    assert "acknowledge" not in body["links"]


async def test_the_inbox_shows_reassigned_once_the_referral_moved_on_and_filters_by_state(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    moved = await queue_delivery(pool, ORG_A)
    await queue_delivery(pool, ORG_A)
    async with pool.acquire() as conn, conn.transaction():
        await service.attempt_moved(
            conn, AttemptMoved(uuid.UUID(moved.split(":")[0]), 1, AlertState.REASSIGNED, datetime.now(UTC))
        )

    reassigned = await client.get("/v1/portal/inbox", params={"state": "reassigned"}, headers=PARTNER_A)

    [item] = reassigned.json()
    assert (item["alert_key"], item["state"], item["actions"]) == (moved, "reassigned", {})
    assert item["channels"] == {"webhook": "cancelled"}  # nothing is sent about a moved-on attempt


async def test_only_partners_have_an_inbox(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/portal/inbox", headers=OPERATOR)).status_code == 403
    assert (await client.get("/v1/portal/inbox")).status_code == 401
    bad = await client.get("/v1/portal/inbox", params={"state": "lost"}, headers=PARTNER_A)
    assert bad.status_code == 422


async def test_the_inbox_follows_the_handoff_past_acceptance_to_its_outcome(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    key = await queue_delivery(pool, ORG_A)
    referral_id = uuid.UUID(key.split(":")[0])
    at = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        await service.attempt_moved(conn, AttemptMoved(referral_id, 1, AlertState.ACKNOWLEDGED, at))

    async def step(stage: OutcomeStage, **more: str | None) -> dict[str, object]:
        async with pool.acquire() as conn, conn.transaction():
            await service.step_recorded(
                conn,
                StepRecorded(
                    referral_id=referral_id,
                    organisation_id=ORG_A,
                    stage=stage,
                    accompanied_to=more.get("accompanied_to"),
                    outcome=more.get("outcome"),
                    at=datetime.now(UTC),
                ),
            )
        [item] = (await client.get("/v1/portal/inbox", headers=PARTNER_A)).json()
        return dict(item)

    # 同行支援 before 面談 is a late or repeated event: the inbox does not jump ahead.
    assert (await step(OutcomeStage.ACCOMPANIED, accompanied_to="police"))["state"] == "acknowledged"
    assert (await step(OutcomeStage.CONTACTED))["state"] == "contacted"
    accompanied = await step(OutcomeStage.ACCOMPANIED, accompanied_to="hospital")
    assert (accompanied["state"], accompanied["accompanied_to"]) == ("accompanied", "hospital")
    closed = await step(OutcomeStage.CLOSED, outcome="supported")
    assert (closed["state"], closed["outcome"], closed["accompanied_to"]) == (
        "closed",
        "supported",
        "hospital",
    )
    assert closed["actions"] == {}
