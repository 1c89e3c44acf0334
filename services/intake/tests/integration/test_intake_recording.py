"""Recording and changing consultations on a real database: encryption at rest, idempotency, the
outbox row, severity decisions, consent records and the revision history."""

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import pytest

from contracts.vocabulary import Channel, IssueTag, LawfulBasis, Severity, Topic
from eventkit.auth import Principal, Role
from eventkit.errors import DomainError, NotFound
from eventkit.http import status_of
from eventkit.testing import outbox_rows
from intake import sealing
from intake.consent.domain import (
    CURRENT_CONSENT_TEXT,
)
from intake.consultations import revisions, service
from intake.consultations.domain import Changes, Contact, NewConsultation
from intake.risk.answers import RiskAssessment
from intake.risk.domain import COUNSELLOR_ONLY
from intake.risk.rules import RULES_V1
from intake.sealing import Sealer

from ..builders import CONSENT

COUNSELLOR = Principal(subject="counsellor-1", role=Role.COUNSELLOR)
NOW = datetime(2026, 5, 3, 3, 0, tzinfo=UTC)

NEW = NewConsultation(
    channel=Channel.PHONE,
    topic=Topic.LONELY,
    municipality_code="131016",
    severity=Severity.S3,
    lawful_basis=LawfulBasis.CONSENT,
    summary="一人暮らしで三日食べていない、と話す",
    contact=Contact(name="試験 花子", phone="090-1234-5678", address="千代田区1-1"),
)
ASSESSED = replace(
    NEW,
    severity=None,
    lawful_basis=None,
    risk=RiskAssessment(no_money_or_food=True, distress=True),
    need_tags=(IssueTag.FOOD, IssueTag.ISO),
    consent=CONSENT,
)


async def record(
    pool: asyncpg.Pool, sealer: Sealer, new: NewConsultation = NEW, key: str | None = None
) -> uuid.UUID:
    view, _ = await service.record_consultation(
        pool, sealer, principal=COUNSELLOR, new=new, idempotency_key=key, now=NOW
    )
    return view.consultation.id


async def row_of(pool: asyncpg.Pool, table: str, case_id: uuid.UUID) -> asyncpg.Record:
    """The one row `table` holds for the consultation `case_id`."""
    row = await pool.fetchrow(f"SELECT * FROM {table} WHERE consultation_id = $1", case_id)
    assert row is not None
    return row


async def test_a_consultation_and_its_event_are_stored_together(pool: asyncpg.Pool, sealer: Sealer) -> None:
    case_id = await record(pool, sealer, ASSESSED)
    rows = await outbox_rows(pool)
    assert len(rows) == 1
    assert rows[0]["event_type"] == "consultation.recorded.v2"
    assert rows[0]["message_key"] == str(case_id)
    assert rows[0]["topic"] == "intake.consultations.v1"
    payload = rows[0]["payload"]
    assert (payload["severity"], payload["lawful_basis"]) == ("S2", "CONSENT")
    assert payload["need_tags"] == ["FOOD", "ISO"] and payload["age_band"] == "unknown"


async def test_personal_data_is_encrypted_at_rest_and_absent_from_the_event(
    pool: asyncpg.Pool, sealer: Sealer
) -> None:
    await record(pool, sealer, ASSESSED)
    stored = json.dumps([dict(r) for r in await pool.fetch("SELECT * FROM consultations")], default=str)
    staged = json.dumps(
        [dict(r) for r in await pool.fetch("SELECT payload, headers FROM outbox")], default=str
    )
    for secret in ("試験 花子", "090-1234-5678", "千代田区1-1", "三日食べていない"):
        assert secret not in stored
        assert secret not in staged
    assert '"v1.k1.' in stored or "v1.k1." in stored


async def test_the_severity_decision_is_stored_with_its_rule_version_and_answers(
    pool: asyncpg.Pool, sealer: Sealer
) -> None:
    case_id = await record(pool, sealer, ASSESSED)
    row = await row_of(pool, "severity_decisions", case_id)
    assert (row["rule_version"], row["computed_severity"], row["final_severity"], row["direction"]) == (
        RULES_V1,
        "S2",
        "S2",
        "as_computed",
    )
    assert list(row["flags"]) == ["S2.no_money_or_food", "S1.distress", "S1.needs_information"]
    # The answers are special-care personal data: sealed, never plain JSON.
    assert row["answers"] is None and "no_money_or_food" not in row["answers_enc"]
    answers = json.loads(sealer.open(sealing.DECISION_ANSWERS, row["id"], row["answers_enc"]) or "{}")
    assert answers["no_money_or_food"] is True
    consultation, decisions = await service.severity_history(
        pool, sealer, principal=COUNSELLOR, consultation_id=case_id
    )
    assert decisions[0].explanation is not None and decisions[0].explanation.reproduced
    assert consultation.rule_version == RULES_V1


async def test_without_an_assessment_the_posted_severity_is_kept_as_counsellor_only(
    pool: asyncpg.Pool, sealer: Sealer
) -> None:
    case_id = await record(pool, sealer)
    row = await pool.fetchrow(
        "SELECT rule_version, severity, closed_at FROM consultations WHERE id = $1", case_id
    )
    assert row is not None and (row["rule_version"], row["severity"]) == (COUNSELLOR_ONLY, "S3")
    assert row["closed_at"] is None  # a handoff follows: it closes with it
    quiet = await record(pool, sealer, replace(NEW, severity=Severity.S1))
    closed = await pool.fetchval("SELECT closed_reason FROM consultations WHERE id = $1", quiet)
    assert closed == "no_handoff"


async def test_consent_is_recorded_with_items_recipient_method_time_and_text_version(
    pool: asyncpg.Pool, sealer: Sealer
) -> None:
    case_id = await record(pool, sealer, ASSESSED)
    row = await row_of(pool, "consents", case_id)
    assert (
        row["decision"],
        sorted(row["items"]),
        row["recipient_kind"],
        row["method"],
        row["text_version"],
    ) == (
        "given",
        ["contact", "summary"],
        "local_support_org",
        "recorded_line",
        CURRENT_CONSENT_TEXT,
    )
    assert row["obtained_at"] == NOW and row["obtained_by"] == COUNSELLOR.subject


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_consultation(
    pool: asyncpg.Pool, sealer: Sealer
) -> None:
    first, created_first = await service.record_consultation(
        pool, sealer, principal=COUNSELLOR, new=NEW, idempotency_key="retry-1", now=NOW
    )
    again, created_again = await service.record_consultation(
        pool, sealer, principal=COUNSELLOR, new=NEW, idempotency_key="retry-1", now=NOW
    )
    assert created_first and not created_again
    assert again.consultation.id == first.consultation.id and again.consultation.summary == NEW.summary
    assert await pool.fetchval("SELECT count(*) FROM consultations") == 1
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_reusing_an_idempotency_key_for_a_different_body_is_a_conflict(
    pool: asyncpg.Pool, sealer: Sealer
) -> None:
    await record(pool, sealer, key="k")
    other = NewConsultation(**{**vars(NEW), "severity": Severity.S1})
    with pytest.raises(DomainError) as caught:
        await record(pool, sealer, other, key="k")
    assert status_of(caught.value) == 409 and caught.value.code == "idempotency_key_reused"


async def test_an_invalid_case_is_refused_with_every_problem_and_leaves_nothing(
    pool: asyncpg.Pool, sealer: Sealer
) -> None:
    bad = replace(NEW, topic=Topic.SUICIDAL, severity=None)
    with pytest.raises(DomainError) as caught:
        await record(pool, sealer, bad, key="bad")
    assert status_of(caught.value) == 422
    assert [d.field for d in caught.value.details] == ["body.risk.cssrs", "body.severity"]
    assert await pool.fetchval("SELECT count(*) FROM consultations") == 0
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0


async def test_another_counsellor_cannot_read_the_consultation(pool: asyncpg.Pool, sealer: Sealer) -> None:
    mine = await record(pool, sealer)
    other = Principal(subject="counsellor-2", role=Role.COUNSELLOR)
    with pytest.raises(NotFound):
        await service.get_consultation(pool, sealer, principal=other, consultation_id=mine)
    read = await service.get_consultation(pool, sealer, principal=COUNSELLOR, consultation_id=mine)
    assert read.consultation.contact == NEW.contact
    with pytest.raises(NotFound):
        await service.get_consultation(pool, sealer, principal=COUNSELLOR, consultation_id=uuid.uuid4())


# ---- updates --------------------------------------------------------------------------------


async def update(
    pool: asyncpg.Pool, sealer: Sealer, case_id: uuid.UUID, **changes: object
) -> service.ConsultationView:
    return await revisions.update_consultation(
        pool,
        sealer,
        principal=COUNSELLOR,
        consultation_id=case_id,
        changes=Changes(**changes),  # type: ignore[arg-type]
        now=NOW,
    )


async def test_raising_a_severity_is_free_and_announced_again(pool: asyncpg.Pool, sealer: Sealer) -> None:
    case_id = await record(pool, sealer, replace(NEW, severity=Severity.S1))
    view = await update(pool, sealer, case_id, severity=Severity.S3)
    assert view.consultation.severity is Severity.S3 and view.consultation.revision == 2
    assert view.consultation.closed_at is None  # it was closed as 'no handoff'; now one follows
    payloads = [r["payload"] for r in await outbox_rows(pool)]
    assert [p["severity"] for p in payloads] == ["S1", "S3"]
    assert {p["case_id"] for p in payloads} == {str(case_id)}
    decisions = await pool.fetch(
        "SELECT final_severity, previous_severity, direction, decided_by FROM severity_decisions "
        "WHERE consultation_id = $1 ORDER BY seq",
        case_id,
    )
    assert [tuple(r) for r in decisions][-1] == ("S3", "S1", "raised", COUNSELLOR.subject)


async def test_lowering_a_severity_needs_a_reason_which_is_kept_encrypted(
    pool: asyncpg.Pool, sealer: Sealer
) -> None:
    case_id = await record(pool, sealer)
    with pytest.raises(DomainError) as caught:
        await update(pool, sealer, case_id, severity=Severity.S1)
    assert status_of(caught.value) == 422 and caught.value.details[0].field == "body.severity_reason"
    await update(pool, sealer, case_id, severity=Severity.S1, severity_reason="本人が家族と連絡が取れた")
    raw = await pool.fetchval(
        "SELECT reason_enc FROM severity_decisions WHERE consultation_id = $1 AND direction = 'lowered'",
        case_id,
    )
    assert raw is not None and "家族" not in raw
    _, decisions = await service.severity_history(pool, sealer, principal=COUNSELLOR, consultation_id=case_id)
    assert decisions[-1].reason == "本人が家族と連絡が取れた" and decisions[-1].direction == "lowered"


async def test_every_change_is_kept_with_its_before_values(pool: asyncpg.Pool, sealer: Sealer) -> None:
    case_id = await record(pool, sealer)
    await update(pool, sealer, case_id, summary="二回目の記録", need_tags=(IssueTag.HOU,))
    await update(pool, sealer, case_id, municipality_code="271403")
    found = await revisions.list_revisions(pool, sealer, principal=COUNSELLOR, consultation_id=case_id)
    assert [(r.revision, r.fields) for r in found] == [
        (2, ["need_tags", "summary"]),
        (3, ["municipality_code"]),
    ]
    assert found[0].before == {"need_tags": []}
    assert found[0].before_personal == {"summary": NEW.summary}
    assert found[1].before == {"municipality_code": "131016"} and found[1].before_personal is None
    raw = json.dumps([dict(r) for r in await pool.fetch("SELECT * FROM consultation_revisions")], default=str)
    assert "三日食べていない" not in raw


async def test_an_update_that_changes_nothing_records_nothing(pool: asyncpg.Pool, sealer: Sealer) -> None:
    case_id = await record(pool, sealer)
    view = await update(pool, sealer, case_id, topic=Topic.LONELY)
    assert view.consultation.revision == 1
    assert await pool.fetchval("SELECT count(*) FROM consultation_revisions") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_new_answers_recompute_the_level_and_a_lower_result_is_not_applied_silently(
    pool: asyncpg.Pool, sealer: Sealer
) -> None:
    case_id = await record(pool, sealer, ASSESSED)  # S2 by the rules
    raised = await update(
        pool, sealer, case_id, risk=RiskAssessment(no_money_or_food=True, safe_place_tonight=False)
    )
    assert (
        raised.consultation.severity is Severity.S3 and raised.consultation.computed_severity is Severity.S3
    )
    calmer = await update(pool, sealer, case_id, risk=RiskAssessment(distress=True))
    # The rules now say S1, but nothing is lowered without a reason: S3 stays, computed S1.
    assert (calmer.consultation.severity, calmer.consultation.computed_severity) == (Severity.S3, Severity.S1)
