"""risk's SQL: every severity decision of a case, its reason and the answers it read encrypted."""

import uuid
from datetime import datetime

import asyncpg

from contracts.vocabulary import Severity
from intake import sealing
from intake.risk.answers import RiskAssessment
from intake.risk.domain import RecordedDecision, SeverityDecision
from intake.sealing import Sealer

_COLUMNS = (
    "id, consultation_id, rule_version, answers, answers_enc, computed_severity, flags, previous_severity, "
    "final_severity, direction, reason_enc, decided_by, decided_at"
)


async def insert_decision(
    conn: asyncpg.Connection,
    sealer: Sealer,
    *,
    consultation_id: uuid.UUID,
    decision: SeverityDecision,
    answers: RiskAssessment | None,
    by: str,
    at: datetime,
) -> None:
    decision_id = uuid.uuid4()
    await conn.execute(
        f"""INSERT INTO severity_decisions ({_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
        decision_id,
        consultation_id,
        decision.rule_version,
        None,  # the legacy plain column (migration 0005)
        sealer.seal(sealing.DECISION_ANSWERS, decision_id, answers.model_dump_json() if answers else None),
        decision.computed.value if decision.computed else None,
        list(decision.flags),
        decision.previous.value if decision.previous else None,
        decision.final.value,
        decision.direction.value,
        sealer.seal(sealing.DECISION_REASON, decision_id, decision.reason),
        by,
        at,
    )


def _answers(sealer: Sealer, row: asyncpg.Record) -> RiskAssessment | None:
    sealed = sealer.open(sealing.DECISION_ANSWERS, row["id"], row["answers_enc"])
    if sealed is not None:
        return RiskAssessment.model_validate_json(sealed)
    return RiskAssessment.model_validate(row["answers"]) if row["answers"] else None


async def list_decisions(
    conn: asyncpg.Connection, sealer: Sealer, *, consultation_id: uuid.UUID
) -> list[RecordedDecision]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM severity_decisions WHERE consultation_id = $1 ORDER BY seq",
        consultation_id,
    )
    return [
        RecordedDecision(
            rule_version=r["rule_version"],
            answers=_answers(sealer, r),
            computed=Severity(r["computed_severity"]) if r["computed_severity"] else None,
            flags=tuple(r["flags"]),
            previous=Severity(r["previous_severity"]) if r["previous_severity"] else None,
            final=Severity(r["final_severity"]),
            direction=r["direction"],
            reason=sealer.open(sealing.DECISION_REASON, r["id"], r["reason_enc"]),
            decided_by=r["decided_by"],
            decided_at=r["decided_at"],
        )
        for r in rows
    ]
