"""Minimum disclosure: only the organisation that accepted a case receives its personal data, only
what consent (or the legal basis) covers, and every release leaves an append-only provision record."""

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from contracts.events import HandoffAcknowledged, HandoffOutcomeRecorded, ReferralWithdrawn
from contracts.vocabulary import OutcomeStage
from eventkit.testing import consume
from intake.handlers import HANDLERS
from intake.retention import service as retention

from ..builders import CONSENT_BODY, consultation_body

Api = Any  # the api fixture of conftest.py
ORG = uuid.uuid4()
OTHER_ORG = uuid.uuid4()
NAME, PHONE, SUMMARY = "試験 花子", "090-2222-3333", "家賃が払えず来週退去になる"


def body(**changes: Any) -> dict[str, Any]:
    eviction = consultation_body(
        topic="POVERTY",
        risk={"eviction_or_cutoff_7_days": True, "safe_place_tonight": False},
        consent=CONSENT_BODY,
        summary=SUMMARY,
        contact={"name": NAME, "phone": PHONE},
        need_tags=["HOU", "MON"],
    )
    return eviction | changes


async def accepted_case(api: Api, org: uuid.UUID = ORG, **changes: Any) -> tuple[str, uuid.UUID]:
    created = await api.client.post(
        "/v1/consultations", json=body(**changes), headers=api.headers("counsellor")
    )
    assert created.status_code == 201, created.text
    case_id = uuid.UUID(created.json()["case_id"])
    referral_id = uuid.uuid4()
    ack = HandoffAcknowledged(
        case_id=case_id,
        referral_id=referral_id,
        attempt=1,
        organisation_id=org,
        via="link",
        acknowledged_at=api.clock.now,
    )
    await consume(api.pool, HANDLERS, ack)
    await consume(api.pool, HANDLERS, ack)  # a redelivery changes nothing
    return str(case_id), referral_id


async def closed_by_the_partner(api: Api, case_id: str, referral_id: uuid.UUID) -> None:
    closed = HandoffOutcomeRecorded(
        case_id=uuid.UUID(case_id),
        referral_id=referral_id,
        organisation_id=ORG,
        stage=OutcomeStage.CLOSED,
        recorded_at=api.clock.now,
    )
    await consume(api.pool, HANDLERS, closed)


def partner(api: Api, org: uuid.UUID = ORG) -> dict[str, str]:
    return api.headers("partner", f"partner-of-{org.hex[:6]}", org)


async def test_the_accepting_partner_receives_the_consented_items_and_the_release_is_recorded(
    api: Api,
) -> None:
    case_id, referral_id = await accepted_case(api)
    response = await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api))
    assert response.status_code == 200, response.text
    released = response.json()
    assert released["items"] == ["contact", "summary"] and released["withheld"] == ["risk"]
    assert released["contact"]["name"] == NAME and released["contact"]["phone"] == PHONE
    assert released["summary"] == SUMMARY and released["risk"] is None
    assert released["lawful_basis"] == "CONSENT" and "記録されました" in released["notice"]

    [record] = await api.pool.fetch("SELECT * FROM disclosures")
    assert record["id"] == uuid.UUID(released["provision_id"])
    assert (record["organisation_id"], record["referral_id"]) == (ORG, referral_id)
    assert sorted(record["items"]) == ["contact", "summary"] and record["lawful_basis"] == "CONSENT"
    assert record["released_by"] == f"partner-of-{ORG.hex[:6]}" and record["consent_id"] is not None
    assert "consent given" in record["provenance"] and "recorded_line" in record["provenance"]
    for value in (NAME, PHONE, SUMMARY):
        assert value not in str(dict(record))


async def test_another_partner_gets_404_and_nothing_is_recorded(api: Api) -> None:
    case_id, _ = await accepted_case(api)
    response = await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api, OTHER_ORG))
    assert response.status_code == 404 and NAME not in response.text
    unknown = await api.client.get(f"/v1/cases/{uuid.uuid4()}/disclosure", headers=partner(api))
    assert unknown.status_code == 404
    counsellor = await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=api.headers("counsellor"))
    assert counsellor.status_code == 403
    assert await api.pool.fetchval("SELECT count(*) FROM disclosures") == 0


async def test_only_what_consent_covers_is_released_and_less_can_be_asked_for(api: Api) -> None:
    consent = {"items": ["contact"], "method": "recorded_line", "text_version": "2026-11-v1"}
    case_id, _ = await accepted_case(api, consent=consent)
    released = (await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api))).json()
    assert released["items"] == ["contact"] and released["summary"] is None
    case_id, _ = await accepted_case(api)
    asked = await api.client.get(
        f"/v1/cases/{case_id}/disclosure", params={"items": "summary"}, headers=partner(api)
    )
    assert asked.json()["items"] == ["summary"] and asked.json()["contact"] is None


async def test_a_legal_exception_releases_what_the_recipient_needs_and_says_so(api: Api) -> None:
    emergency = {
        "risk": {"attempt_in_progress": True},
        "emergency_call": {"service": "119", "called_at": "2026-05-03T03:00:00+00:00"},
        "lawful_basis": "VITAL_INTEREST_27_1_2",
        "consent": None,
    }
    case_id, _ = await accepted_case(api, **emergency)
    released = (await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api))).json()
    assert released["items"] == ["contact", "risk", "summary"]
    assert released["risk"]["attempt_in_progress"] is True
    provenance = await api.pool.fetchval("SELECT provenance FROM disclosures")
    assert "VITAL_INTEREST_27_1_2" in provenance


async def test_consent_without_its_record_releases_nothing_and_records_nothing(api: Api) -> None:
    legacy = {"risk": None, "consent": None, "severity": "S3", "lawful_basis": "CONSENT"}
    case_id, _ = await accepted_case(api, **legacy)
    released = (await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api))).json()
    assert released["items"] == [] and released["contact"] is None and released["provision_id"] is None
    assert await api.pool.fetchval("SELECT count(*) FROM disclosures") == 0


async def test_a_withdrawn_referral_ends_the_partners_access(api: Api) -> None:
    case_id, referral_id = await accepted_case(api)
    await consume(
        api.pool,
        HANDLERS,
        ReferralWithdrawn(
            case_id=uuid.UUID(case_id),
            referral_id=referral_id,
            reason="person_request",
            withdrawn_at=api.clock.now,
        ),
    )
    response = await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api))
    assert response.status_code == 404


async def test_provision_records_are_listed_per_case_and_per_partner_to_those_allowed(api: Api) -> None:
    case_id, _ = await accepted_case(api)
    await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api))
    await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api))
    per_case = await api.client.get(f"/v1/cases/{case_id}/disclosures", headers=api.headers("counsellor"))
    assert per_case.status_code == 200 and len(per_case.json()) == 2
    assert (await api.client.get(f"/v1/cases/{case_id}/disclosures", headers=partner(api))).status_code == 403
    own = await api.client.get(f"/v1/partners/{ORG}/disclosures", headers=partner(api))
    assert own.status_code == 200 and {r["case_id"] for r in own.json()} == {case_id}
    theirs = await api.client.get(f"/v1/partners/{ORG}/disclosures", headers=partner(api, OTHER_ORG))
    assert theirs.status_code == 404
    operator = await api.client.get(f"/v1/partners/{ORG}/disclosures", headers=api.headers("operator"))
    assert len(operator.json()) == 2


async def test_provision_records_cannot_be_changed_or_removed_and_the_chain_shows_tampering(api: Api) -> None:
    case_id, _ = await accepted_case(api)
    for _ in range(3):
        await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await api.pool.execute("UPDATE disclosures SET items = '{}'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await api.pool.execute("DELETE FROM disclosures")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await api.pool.execute("TRUNCATE disclosures")
    check = await api.client.get("/v1/disclosures/integrity", headers=api.headers("operator"))
    assert check.json() == {"records": 3, "intact": True, "first_broken": None}
    # Only someone able to switch the trigger off can alter a row, and the chain still tells.
    async with api.pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE disclosures DISABLE TRIGGER disclosures_append_only")
        await conn.execute(
            "UPDATE disclosures SET items = '{contact}' WHERE seq = (SELECT min(seq) + 1 FROM disclosures)"
        )
        await conn.execute("ALTER TABLE disclosures ENABLE TRIGGER disclosures_append_only")
    check = await api.client.get("/v1/disclosures/integrity", headers=api.headers("operator"))
    assert check.json() == {"records": 3, "intact": False, "first_broken": 2}


async def test_a_closed_handoff_closes_the_consultation_and_starts_its_retention(api: Api) -> None:
    case_id, referral_id = await accepted_case(api)
    assert (
        await api.pool.fetchval("SELECT closed_at FROM consultations WHERE id = $1", uuid.UUID(case_id))
        is None
    )
    await closed_by_the_partner(api, case_id, referral_id)
    row = await api.pool.fetchrow(
        "SELECT closed_at, closed_reason FROM consultations WHERE id = $1", uuid.UUID(case_id)
    )
    assert row is not None and row["closed_reason"] == "handoff_closed" and row["closed_at"] == api.clock.now


async def test_a_purged_case_answers_gone_and_releases_nothing(api: Api) -> None:
    case_id, referral_id = await accepted_case(api)
    await closed_by_the_partner(api, case_id, referral_id)
    await retention.purge(api.pool, now=api.clock.now + timedelta(days=366), retention_days=365)
    response = await api.client.get(f"/v1/cases/{case_id}/disclosure", headers=partner(api))
    assert response.status_code == 410 and response.json()["error"]["code"] == "personal_data_purged"
    assert NAME not in response.text and SUMMARY not in response.text
    assert await api.pool.fetchval("SELECT count(*) FROM disclosures") == 0
