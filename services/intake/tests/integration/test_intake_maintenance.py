"""Personal data at rest: encryption round trip, key rotation (function and command) and the
retention purge, driven by a clock the test sets."""

import asyncio
import json
import os
import subprocess
import sys
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from eventkit.auth import Principal, Role
from eventkit.crypto import Keyring, generate_keyring_entry
from intake.consultations import service as consultations
from intake.retention import service as retention
from intake.retention.worker import RetentionWorker
from intake.sealing import SEALED_COLUMNS, Sealer
from intake.signatures import line_signature, twilio_signature

from ..builders import CONSENT_BODY, consultation_body

Api = Any  # the api fixture of conftest.py
NAME, PHONE, SUMMARY = "回転 花子", "090-4444-5555", "鍵を替えても読めるべき相談内容"
RISK = {"safe_place_tonight": False, "distress": True}


async def populate(api: Api) -> dict[str, str]:
    """One row in every personal column: a consultation with a revision and a lowered decision, a
    call leg, a chat with messages."""
    counsellor = api.headers("counsellor")
    created = await api.client.post(
        "/v1/consultations",
        json=consultation_body(
            severity="S3",
            lawful_basis="CONSENT",
            summary=SUMMARY,
            contact={"name": NAME, "phone": PHONE},
            risk=RISK,
            consent=CONSENT_BODY,
        ),
        headers=counsellor,
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    lowered = await api.client.patch(
        f"/v1/consultations/{case_id}",
        json={"severity": "S2", "severity_reason": "家族が付き添う", "summary": SUMMARY + "(追記)"},
        headers=counsellor,
    )
    assert lowered.status_code == 200, lowered.text
    form = [("CallSid", "CA" + uuid.uuid4().hex), ("From", PHONE), ("To", "+81120999999")]
    path = "/v1/channels/phone/voice"
    await api.client.post(
        path,
        content=urllib.parse.urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(api.twilio_token, api.base_url + path, form),
        },
    )
    user = "U" + uuid.uuid4().hex
    body = json.dumps(
        {
            "events": [
                {
                    "type": "message",
                    "timestamp": 1_780_000_000_000,
                    "webhookEventId": uuid.uuid4().hex,
                    "source": {"type": "user", "userId": user},
                    "replyToken": "r",
                    "message": {"type": "text", "id": "1", "text": SUMMARY},
                }
            ]
        }
    ).encode()
    response = await api.client.post(
        "/v1/channels/line/webhook",
        content=body,
        headers={"X-Line-Signature": line_signature(api.line_secret, body)},
    )
    assert response.status_code == 200
    return {"case_id": case_id, "user": user}


async def key_ids(pool: asyncpg.Pool) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for column in SEALED_COLUMNS:
        rows = await pool.fetch(
            f"SELECT {column.column} AS v FROM {column.table} WHERE {column.column} IS NOT NULL"
        )
        found[f"{column.table}.{column.column}"] = {Keyring.key_id_of(r["v"]) for r in rows}
    return found


async def test_every_personal_column_round_trips_and_is_bound_to_its_row(
    api: Api, pool: asyncpg.Pool
) -> None:
    await populate(api)
    found = await key_ids(pool)
    assert all(ids == {"k1"} for ids in found.values()), found
    summary = await pool.fetchrow("SELECT id, summary_enc FROM consultations")
    assert summary is not None
    sealer: Sealer = api.sealer
    column = SEALED_COLUMNS[0]
    assert sealer.open(column, summary["id"], summary["summary_enc"]) == SUMMARY + "(追記)"
    with pytest.raises(Exception, match="context"):
        sealer.open(column, uuid.uuid4(), summary["summary_enc"])  # moved to another row: refused


async def test_rotation_re_encrypts_everything_under_the_new_key_and_the_old_one_can_go(
    api: Api, pool: asyncpg.Pool, keys: str
) -> None:
    ids = await populate(api)
    new_entry = generate_keyring_entry("k2")
    progress: list[str] = []
    report = await retention.rotate_keys(
        pool, Keyring(f"{new_entry},{keys}"), batch_size=1, progress=progress.append
    )
    assert report.active_key == "k2" and report.total >= len(SEALED_COLUMNS)
    assert all(ids == {"k2"} for ids in (await key_ids(pool)).values())
    assert progress[0] == "rotate-keys: the active key is k2" and progress[-1].startswith("rotate-keys: done")
    assert any("consultations.summary_enc: 1/1 re-encrypted" in line for line in progress)
    # The old key is no longer needed to read anything.
    only_new = Sealer(Keyring(new_entry))
    principal = Principal(subject="counsellor-1", role=Role.COUNSELLOR)
    view = await consultations.get_consultation(
        pool, only_new, principal=principal, consultation_id=uuid.UUID(ids["case_id"])
    )
    assert view.consultation.contact is not None and view.consultation.contact.phone == PHONE
    _, decisions = await consultations.severity_history(
        pool, only_new, principal=principal, consultation_id=uuid.UUID(ids["case_id"])
    )
    assert decisions[-1].reason == "家族が付き添う"
    again = await retention.rotate_keys(pool, Keyring(f"{new_entry},{keys}"))
    assert again.total == 0


async def test_rotation_stops_with_a_clear_message_when_a_key_is_missing(
    api: Api, pool: asyncpg.Pool
) -> None:
    await populate(api)
    with pytest.raises(retention.RotationFailed, match="put the key that wrote it back"):
        await retention.rotate_keys(pool, Keyring(generate_keyring_entry("k9")))


async def test_the_rotate_keys_command_prints_its_progress(
    api: Api, pool: asyncpg.Pool, service_db: str, keys: str
) -> None:
    await populate(api)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")},
        "INTAKE_DATABASE_URL": service_db,
        "INTAKE_ENCRYPTION_KEYS": f"{generate_keyring_entry('k3')},{keys}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        "rotate-keys",
        "--batch-size",
        "2",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    result = subprocess.CompletedProcess(["rotate-keys"], process.returncode or 0, out.decode(), err.decode())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "rotate-keys: the active key is k3"
    assert lines[-1].startswith("rotate-keys: done,") and lines[-1].endswith("now under k3")
    assert all(ids == {"k3"} for ids in (await key_ids(pool)).values())
    for secret in (NAME, PHONE, SUMMARY):
        assert secret not in result.stdout + result.stderr


async def test_the_purge_removes_personal_data_of_old_closed_cases_and_keeps_the_statistics(
    api: Api, pool: asyncpg.Pool
) -> None:
    ids = await populate(api)
    counsellor = api.headers("counsellor")
    case_id = uuid.UUID(ids["case_id"])
    quiet = await api.client.post(
        "/v1/consultations",
        json=consultation_body(
            channel="chat", severity="S1", summary=SUMMARY, contact={"phone": PHONE}, need_tags=["ISO"]
        ),
        headers=counsellor,
    )
    quiet_id = uuid.UUID(quiet.json()["case_id"])
    await api.client.post(f"/v1/consultations/{case_id}/close", headers=counsellor)
    recorded_at = api.clock.now

    report = await retention.purge(pool, now=recorded_at + timedelta(days=364), retention_days=365)
    assert report == retention.PurgeReport(0, 0, 0)

    report = await retention.purge(pool, now=recorded_at + timedelta(days=366), retention_days=365)
    assert (report.consultations, report.call_legs, report.chats) == (2, 1, 1)
    rows = await pool.fetch("SELECT * FROM consultations ORDER BY recorded_at")
    for row in rows:
        assert row["summary_enc"] is None and row["contact_enc"] is None and row["purged_at"] is not None
    statistics = {
        (r["id"], r["topic"], r["severity"], r["municipality_code"], tuple(r["need_tags"])) for r in rows
    }
    assert (quiet_id, "LONELY", "S1", "131041", ("ISO",)) in statistics
    assert await pool.fetchval("SELECT count(*) FROM severity_decisions") == 3  # kept, reasons removed
    assert await pool.fetchval("SELECT count(*) FROM severity_decisions WHERE reason_enc IS NOT NULL") == 0
    assert (
        await pool.fetchval("SELECT count(*) FROM consultation_revisions WHERE before_enc IS NOT NULL") == 0
    )
    assert await pool.fetchval("SELECT count(*) FROM call_legs WHERE caller_enc IS NOT NULL") == 0
    assert await pool.fetchval("SELECT count(*) FROM chat_messages WHERE text_enc IS NOT NULL") == 0
    assert (
        await pool.fetchval("SELECT count(*) FROM chats WHERE user_enc IS NOT NULL OR user_ref IS NOT NULL")
        == 0
    )

    gone = await api.client.get(f"/v1/consultations/{case_id}", headers=counsellor)
    assert gone.status_code == 200 and gone.json()["summary"] is None and gone.json()["purged_at"] is not None
    change = await api.client.patch(
        f"/v1/consultations/{case_id}", json={"severity": "S4"}, headers=counsellor
    )
    assert change.status_code == 410


async def test_an_open_case_is_kept_however_old(api: Api, pool: asyncpg.Pool) -> None:
    ids = await populate(api)  # S3 with consent: open until its handoff closes
    report = await retention.purge(pool, now=api.clock.now + timedelta(days=3650), retention_days=365)
    assert report.consultations == 0
    assert await pool.fetchval(
        "SELECT summary_enc IS NOT NULL FROM consultations WHERE id = $1", uuid.UUID(ids["case_id"])
    )


async def test_the_purge_worker_reads_the_injected_clock(api: Api, pool: asyncpg.Pool) -> None:
    await populate(api)
    await pool.execute("UPDATE consultations SET closed_at = $1", api.clock.now)
    worker = RetentionWorker(
        pool=pool, retention_days=30, interval_s=3600, clock=lambda: api.clock.now + timedelta(days=29)
    )
    assert not (await worker.run_once()).anything
    api.clock.advance(days=2)
    assert (await worker.run_once()).consultations == 1
    assert await pool.fetchval("SELECT count(*) FROM consultations WHERE purged_at IS NULL") == 0


async def test_the_purge_worker_purges_when_it_starts_and_a_stop_lets_the_round_finish(
    api: Api, pool: asyncpg.Pool
) -> None:
    await populate(api)
    await pool.execute("UPDATE consultations SET closed_at = $1", api.clock.now)
    readings: list[datetime] = []
    started = asyncio.Event()

    def clock() -> datetime:
        readings.append(api.clock.now + timedelta(days=31))
        started.set()
        return readings[-1]

    worker = RetentionWorker(pool=pool, retention_days=30, interval_s=3600, clock=clock)
    running = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 10)
    worker.stop()  # the round under way finishes; the hour's wait after it is cut short
    await asyncio.wait_for(running, 5)
    assert len(readings) == 1
    assert await pool.fetchval("SELECT count(*) FROM consultations WHERE purged_at IS NULL") == 0


async def test_the_risk_assessment_is_stored_sealed_never_as_plain_json(api: Api, pool: asyncpg.Pool) -> None:
    ids = await populate(api)
    row = await pool.fetchrow(
        "SELECT risk, risk_enc::text AS sealed FROM consultations WHERE id = $1", uuid.UUID(ids["case_id"])
    )
    assert row is not None and row["risk"] is None
    assert "distress" not in row["sealed"] and Keyring.key_id_of(row["sealed"]) == "k1"
    answer = await api.client.get(f"/v1/consultations/{ids['case_id']}", headers=api.headers("counsellor"))
    assert answer.json()["risk"]["distress"] is True


async def test_risk_written_in_plain_json_before_the_upgrade_is_sealed_by_the_first_round(
    api: Api, pool: asyncpg.Pool, keys: str
) -> None:
    case_id = uuid.UUID((await populate(api))["case_id"])
    # As an older version left it: the assessment in plain JSON, nothing sealed.
    await pool.execute("UPDATE consultations SET risk = $2, risk_enc = NULL WHERE id = $1", case_id, RISK)
    await pool.execute(
        "UPDATE severity_decisions SET answers = $2, answers_enc = NULL WHERE consultation_id = $1",
        case_id,
        RISK,
    )
    await pool.execute(
        "UPDATE consultation_revisions SET before = before || $2 WHERE consultation_id = $1",
        case_id,
        {"risk": RISK},
    )
    legacy = await api.client.get(f"/v1/consultations/{case_id}", headers=api.headers("counsellor"))
    assert legacy.json()["risk"]["distress"] is True  # still read while it waits
    worker = RetentionWorker(
        pool=pool, retention_days=90, interval_s=3600, clock=lambda: datetime.now(UTC), keyring=Keyring(keys)
    )
    await worker.run_once()
    row = await pool.fetchrow("SELECT risk, risk_enc FROM consultations WHERE id = $1", case_id)
    assert row is not None and row["risk"] is None and row["risk_enc"] is not None
    sealed = await api.client.get(f"/v1/consultations/{case_id}", headers=api.headers("counsellor"))
    assert sealed.json()["risk"] == legacy.json()["risk"]
    assert await pool.fetchval("SELECT count(*) FROM severity_decisions WHERE answers IS NOT NULL") == 0
    assert await pool.fetchval("SELECT count(*) FROM consultation_revisions WHERE before ? 'risk'") == 0
    _, decisions = await consultations.severity_history(
        pool,
        Sealer(Keyring(keys)),
        principal=Principal(subject="counsellor-1", role=Role.COUNSELLOR),
        consultation_id=case_id,
    )
    assert all(d.answers is not None and d.answers.distress for d in decisions)
    revision = await pool.fetchrow(
        "SELECT id, before_enc FROM consultation_revisions WHERE consultation_id = $1", case_id
    )
    assert revision is not None
    opened = Sealer(Keyring(keys)).open(SEALED_COLUMNS[2], revision["id"], revision["before_enc"])
    assert json.loads(opened or "{}")["risk"] == RISK
    assert await retention.seal_plain_risk(pool, Keyring(keys)) == 0  # nothing left
