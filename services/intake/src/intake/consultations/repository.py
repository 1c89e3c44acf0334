"""consultations' SQL: consultations, their revisions and the idempotency keys of their recording.

Rows map to domain objects here; the personal fields are sealed on the way in and opened on the
way out with the sealer the caller holds, so no ciphertext reaches the use cases.
"""

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from eventkit import outbox
from eventkit.build import from_row
from intake import sealing
from intake.consultations.domain import Consultation, Contact, Entry, Revision
from intake.risk.answers import EmergencyCall, RiskAssessment
from intake.sealing import Sealer

# ---- consultations --------------------------------------------------------------------------

_FIELDS = (
    "id",
    "channel",
    "topic",
    "municipality_code",
    "severity",
    "lawful_basis",
    "summary_enc",
    "contact_enc",
    "recorded_by",
    "recorded_at",
    "need_tags",
    "age_band",
    "gender",
    "language",
    "rule_version",
    "computed_severity",
    "risk",  # legacy plain text: written NULL, read until the row is sealed (migration 0005)
    "risk_enc",
    "risk_flags",
    "emergency_call",
    "call_leg_id",
    "chat_id",
    "menu_id",
    "menu_digit",
    "revision",
    "updated_at",
    "closed_at",
    "closed_reason",
    "purged_at",
)
_COLUMNS = ", ".join(_FIELDS)
# Who recorded a consultation, when and on which channel never changes.
_FIXED = frozenset({"id", "recorded_by", "recorded_at", "channel"})


def _row(sealer: Sealer, c: Consultation) -> dict[str, Any]:
    contact_json = None
    if c.contact is not None and not c.contact.is_empty():
        contact_json = json.dumps(
            {"name": c.contact.name, "phone": c.contact.phone, "address": c.contact.address},
            ensure_ascii=False,
        )
    return {
        "id": c.id,
        "channel": c.channel.value,
        "topic": c.topic.value,
        "municipality_code": c.municipality_code,
        "severity": c.severity.value,
        "lawful_basis": c.lawful_basis.value if c.lawful_basis else None,
        "summary_enc": sealer.seal(sealing.SUMMARY, c.id, c.summary),
        "contact_enc": sealer.seal(sealing.CONTACT, c.id, contact_json),
        "recorded_by": c.recorded_by,
        "recorded_at": c.recorded_at,
        "need_tags": [t.value for t in c.need_tags],
        "age_band": c.age_band.value,
        "gender": c.gender.value,
        "language": c.language,
        "rule_version": c.rule_version,
        "computed_severity": c.computed_severity.value if c.computed_severity else None,
        "risk": None,
        "risk_enc": sealer.seal(sealing.RISK, c.id, c.risk.model_dump_json() if c.risk else None),
        "risk_flags": list(c.risk_flags),
        "emergency_call": c.emergency_call.model_dump(mode="json") if c.emergency_call else None,
        "call_leg_id": c.entry.call_leg_id,
        "chat_id": c.entry.chat_id,
        "menu_id": c.entry.menu_id,
        "menu_digit": c.entry.menu_digit,
        "revision": c.revision,
        "updated_at": c.updated_at,
        "closed_at": c.closed_at,
        "closed_reason": c.closed_reason,
        "purged_at": c.purged_at,
    }


def _risk(sealer: Sealer, row: asyncpg.Record) -> RiskAssessment | None:
    sealed = sealer.open(sealing.RISK, row["id"], row["risk_enc"])
    if sealed is not None:
        return RiskAssessment.model_validate_json(sealed)
    return RiskAssessment.model_validate(row["risk"]) if row["risk"] else None


def _consultation(sealer: Sealer, row: asyncpg.Record) -> Consultation:
    contact_json = sealer.open(sealing.CONTACT, row["id"], row["contact_enc"])
    return from_row(
        Consultation,
        row,
        channel=Channel(row["channel"]),
        topic=Topic(row["topic"]),
        severity=Severity(row["severity"]),
        lawful_basis=LawfulBasis(row["lawful_basis"]) if row["lawful_basis"] else None,
        summary=sealer.open(sealing.SUMMARY, row["id"], row["summary_enc"]),
        contact=Contact(**json.loads(contact_json)) if contact_json else None,
        need_tags=tuple(IssueTag(t) for t in row["need_tags"]),
        age_band=AgeBand(row["age_band"]),
        gender=Gender(row["gender"]),
        risk=_risk(sealer, row),
        computed_severity=Severity(row["computed_severity"]) if row["computed_severity"] else None,
        risk_flags=tuple(row["risk_flags"]),
        emergency_call=EmergencyCall.model_validate(row["emergency_call"]) if row["emergency_call"] else None,
        entry=Entry(row["call_leg_id"], row["chat_id"], row["menu_id"], row["menu_digit"]),
    )


async def insert_consultation(
    conn: asyncpg.Connection,
    sealer: Sealer,
    *,
    consultation: Consultation,
    trace_id: str | None,
    events: outbox.Rows,
) -> None:
    """The consultation and the events announcing it, in one statement."""
    values = list(_row(sealer, consultation).values())
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 2))
    await conn.execute(
        f"""WITH inserted AS (INSERT INTO consultations ({_COLUMNS}, trace_id) VALUES ({placeholders}))
            {outbox.insert_sql(len(values) + 2)}""",
        *values,
        trace_id,
        *events.args(),
    )
    events.stage(conn)


async def update_consultation(
    conn: asyncpg.Connection, sealer: Sealer, *, consultation: Consultation
) -> None:
    """Every column but the fixed ones."""
    row = _row(sealer, consultation)
    names = [n for n in _FIELDS if n not in _FIXED]
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE consultations SET {assignments} WHERE id = $1",
        consultation.id,
        *[row[name] for name in names],
    )


async def get_consultation(
    conn: asyncpg.Connection, sealer: Sealer, *, consultation_id: uuid.UUID, for_update: bool = False
) -> Consultation | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM consultations WHERE id = $1{lock}", consultation_id)
    return _consultation(sealer, row) if row else None


async def list_consultations_by(
    conn: asyncpg.Connection, sealer: Sealer, *, recorded_by: str, limit: int, before: datetime | None
) -> list[Consultation]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM consultations
             WHERE recorded_by = $1 AND ($2::timestamptz IS NULL OR recorded_at < $2)
             ORDER BY recorded_at DESC LIMIT $3""",
        recorded_by,
        before,
        limit,
    )
    return [_consultation(sealer, row) for row in rows]


async def close_consultation(
    conn: asyncpg.Connection, *, consultation_id: uuid.UUID, at: datetime, reason: str
) -> bool:
    closed = await conn.fetchval(
        """UPDATE consultations SET closed_at = $2, closed_reason = $3
            WHERE id = $1 AND closed_at IS NULL RETURNING true""",
        consultation_id,
        at,
        reason,
    )
    return bool(closed)


# ---- revisions ------------------------------------------------------------------------------


async def insert_revision(
    conn: asyncpg.Connection, sealer: Sealer, *, consultation_id: uuid.UUID, revision: Revision
) -> None:
    revision_id = uuid.uuid4()
    personal = revision.before_personal
    await conn.execute(
        """INSERT INTO consultation_revisions
               (id, consultation_id, revision, fields, before, before_enc, changed_by, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        revision_id,
        consultation_id,
        revision.revision,
        revision.fields,
        revision.before,
        sealer.seal(
            sealing.REVISION_BEFORE,
            revision_id,
            json.dumps(personal, ensure_ascii=False) if personal is not None else None,
        ),
        revision.changed_by,
        revision.changed_at,
    )


async def list_revisions(
    conn: asyncpg.Connection, sealer: Sealer, *, consultation_id: uuid.UUID
) -> list[Revision]:
    rows = await conn.fetch(
        """SELECT id, revision, fields, before, before_enc, changed_by, changed_at
             FROM consultation_revisions WHERE consultation_id = $1 ORDER BY revision""",
        consultation_id,
    )
    revisions = []
    for r in rows:
        personal = sealer.open(sealing.REVISION_BEFORE, r["id"], r["before_enc"])
        before_personal = json.loads(personal) if personal else None
        revisions.append(from_row(Revision, r, fields=list(r["fields"]), before_personal=before_personal))
    return revisions


# ---- idempotency keys -----------------------------------------------------------------------


async def claim_idempotency_key(
    conn: asyncpg.Connection,
    *,
    subject: str,
    key: str,
    request_hash: str,
    consultation_id: uuid.UUID,
) -> bool:
    """True if this request owns the key; False if an earlier request already claimed it."""
    claimed = await conn.fetchval(
        """INSERT INTO idempotency_keys (subject, key, request_hash, consultation_id)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
        subject,
        key,
        request_hash,
        consultation_id,
    )
    return bool(claimed)


async def find_idempotency_key(
    conn: asyncpg.Connection, *, subject: str, key: str
) -> tuple[str, uuid.UUID] | None:
    row = await conn.fetchrow(
        """SELECT request_hash, consultation_id FROM idempotency_keys
            WHERE subject = $1 AND key = $2""",
        subject,
        key,
    )
    return (row["request_hash"], row["consultation_id"]) if row else None
