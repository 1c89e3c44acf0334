"""referral's HTTP edge through the real app, runtime and database: reads, roles and 4xx bodies."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from contracts.events import Candidate, ConsultationRecorded
from contracts.vocabulary import Channel, LawfulBasis, Severity, Topic
from eventkit.auth import generate_signing_keypair, mint_token
from eventkit.testing import Infra
from referral import repository, service
from referral.config import Settings
from referral.domain import Matched, Referral, ReferralState, Unmatched, open_referral
from referral.main import create_app

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
ORG = uuid.uuid4()
OTHER_ORG = uuid.uuid4()


@dataclass
class Api:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    private_key: str

    def headers(self, role: str, organisation_id: uuid.UUID | None = None) -> dict[str, str]:
        token = mint_token(
            self.private_key,
            role=role,
            subject=f"{role}-1",
            organisation_id=str(organisation_id) if organisation_id else None,
        )
        return {"Authorization": f"Bearer {token}"}

    async def get(
        self, path: str, role: str, organisation_id: uuid.UUID | None = None, **params: str
    ) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers(role, organisation_id))


@pytest.fixture
async def api(referral_db: str, infra: Infra) -> AsyncIterator[Api]:
    private_key, public_key = generate_signing_keypair()
    settings = Settings(
        database_url=referral_db,
        auth_public_key=public_key,
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
        db_pool_min=1,
        db_pool_max=4,
        shutdown_grace_s=5,
    )
    app = create_app(settings)
    runtime = app.state.runtime
    # ASGITransport runs no lifespan, so the test starts the runtime itself, without its consumer:
    # on a shared broker it would join the real `referral` group and take that service's messages.
    runtime.handlers = {}
    await runtime.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
            yield Api(client, runtime.pool, private_key)
    finally:
        await runtime.stop()


async def seed(
    pool: asyncpg.Pool, *, matched_to: uuid.UUID | None = None, unmatched: bool = False, age_s: int = 0
) -> Referral:
    """A referral written with the repository and service directly: no outbox row, so nothing is
    published to the shared broker."""
    event = ConsultationRecorded(
        case_id=uuid.uuid4(),
        channel=Channel.PHONE,
        topic=Topic.WOMEN,
        municipality_code="131016",
        severity=Severity.S3,
        lawful_basis=LawfulBasis.CONSENT,
        recorded_at=NOW,
    )
    referral = open_referral(event, referral_id=uuid.uuid4(), now=NOW - timedelta(seconds=age_s))
    async with pool.acquire() as conn, conn.transaction():
        await repository.insert_referral(conn, referral=referral, trace_id="0af7651916cd43dd8448eb211c80319c")
        await repository.add_timeline_entry(
            conn,
            referral_id=referral.id,
            state=ReferralState.REQUESTED,
            at=referral.created_at,
            actor="referral",
            detail={},
            trace_id="0af7651916cd43dd8448eb211c80319c",
        )
        if matched_to is not None:
            fact: Matched | Unmatched = Matched(
                organisation_id=matched_to,
                reasons=("municipality_match",),
                candidates=(Candidate(organisation_id=matched_to, rank=1, tier="municipality", reasons=()),),
                at=NOW + timedelta(seconds=1),
            )
        elif unmatched:
            fact = Unmatched(reasons=("no_organisation_for_topic",), at=NOW + timedelta(seconds=1))
        else:
            return referral
        referral = await service.record_fact(
            conn,
            referral_id=referral.id,
            case_id=referral.case_id,
            fact=fact,
            actor="directory",
            event_id=uuid.uuid4(),
        )
        # The state's clock: the work list orders by how long a referral has waited in its state.
        await conn.execute(
            "UPDATE referrals SET updated_at = $2 WHERE id = $1", referral.id, NOW - timedelta(seconds=age_s)
        )
    return referral


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_a_counsellor_reads_a_referral_with_its_timeline(api: Api) -> None:
    referral = await seed(api.pool, matched_to=ORG)
    response = await api.get(f"/v1/referrals/{referral.id}", "counsellor")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(referral.id)
    assert body["case_id"] == str(referral.case_id)
    assert (body["state"], body["organisation_id"], body["attempt"]) == ("matched", str(ORG), 1)
    assert (body["topic"], body["municipality_code"], body["severity"], body["lawful_basis"]) == (
        "WOMEN",
        "131016",
        "S3",
        "CONSENT",
    )
    assert body["reasons"] == ["municipality_match"]
    assert {"created_at", "updated_at"} <= set(body)
    assert [(t["state"], t["actor"]) for t in body["timeline"]] == [
        ("requested", "referral"),
        ("matched", "directory"),
    ]
    assert body["timeline"][0]["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert set(body["timeline"][0]) == {"state", "at", "actor", "trace_id"}
    assert "candidates" not in body  # other organisations' ids are not a reader's business


async def test_an_operator_reads_any_referral(api: Api) -> None:
    referral = await seed(api.pool)
    response = await api.get(f"/v1/referrals/{referral.id}", "operator")
    assert response.status_code == 200
    assert response.json()["state"] == "requested"


async def test_a_partner_reads_a_referral_handed_to_its_own_organisation(api: Api) -> None:
    referral = await seed(api.pool, matched_to=ORG)
    response = await api.get(f"/v1/referrals/{referral.id}", "partner", ORG)
    assert response.status_code == 200
    assert response.json()["organisation_id"] == str(ORG)


async def test_partner_cannot_read_another_partners_referral(api: Api) -> None:
    referral = await seed(api.pool, matched_to=ORG)
    response = await api.get(f"/v1/referrals/{referral.id}", "partner", OTHER_ORG)
    assert response.status_code == 404
    assert error_code(response) == "not_found"


async def test_a_partner_cannot_read_a_referral_that_no_organisation_holds_yet(api: Api) -> None:
    referral = await seed(api.pool)
    response = await api.get(f"/v1/referrals/{referral.id}", "partner", ORG)
    assert response.status_code == 404


async def test_an_unknown_referral_is_not_found(api: Api) -> None:
    response = await api.get(f"/v1/referrals/{uuid.uuid4()}", "operator")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


async def test_a_malformed_referral_id_is_a_validation_error_with_the_error_body(api: Api) -> None:
    response = await api.get("/v1/referrals/not-a-uuid", "operator")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"][0]["field"] == "path.referral_id"
    assert "not-a-uuid" not in response.text  # the reason only, never the input


async def test_a_request_without_a_token_is_refused(api: Api) -> None:
    response = await api.client.get(f"/v1/referrals/{uuid.uuid4()}")
    assert response.status_code == 401
    assert error_code(response) == "missing_token"


async def test_a_counsellor_finds_the_referral_of_a_case(api: Api) -> None:
    referral = await seed(api.pool)
    await seed(api.pool)
    response = await api.get("/v1/referrals", "counsellor", case_id=str(referral.case_id))
    assert response.status_code == 200
    [found] = response.json()
    assert (found["id"], found["case_id"]) == (str(referral.id), str(referral.case_id))
    assert "timeline" not in found


async def test_a_case_without_a_referral_gives_an_empty_list(api: Api) -> None:
    response = await api.get("/v1/referrals", "operator", case_id=str(uuid.uuid4()))
    assert response.status_code == 200
    assert response.json() == []


async def test_an_operator_lists_referrals_in_a_state_longest_waiting_first(api: Api) -> None:
    newer = await seed(api.pool, unmatched=True, age_s=60)
    older = await seed(api.pool, unmatched=True, age_s=600)
    await seed(api.pool, matched_to=ORG)
    response = await api.get("/v1/referrals", "operator", state="unmatched")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == [str(older.id), str(newer.id)]
    limited = await api.get("/v1/referrals", "operator", state="unmatched", limit="1")
    assert [r["id"] for r in limited.json()] == [str(older.id)]


async def test_only_operators_list_referrals_by_state(api: Api) -> None:
    response = await api.get("/v1/referrals", "counsellor", state="unmatched")
    assert response.status_code == 403
    assert error_code(response) == "forbidden"


async def test_partners_cannot_search_referrals(api: Api) -> None:
    response = await api.get("/v1/referrals", "partner", ORG, case_id=str(uuid.uuid4()))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query.case_id"),
        ({"state": "escalated"}, "query.state"),
        ({"case_id": "12345"}, "query.case_id"),
        ({"state": "unmatched", "limit": "0"}, "query.limit"),
        ({"state": "unmatched", "limit": "201"}, "query.limit"),
    ],
)
async def test_bad_search_parameters_are_validation_errors(
    api: Api, params: dict[str, str], field: str
) -> None:
    response = await api.get("/v1/referrals", "operator", None, **params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [d["field"] for d in error["details"]] == [field]
