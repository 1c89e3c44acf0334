"""consent's SQL: the consent records of a consultation; the latest is in force."""

import uuid
from datetime import datetime

import asyncpg

from eventkit.build import from_row
from intake.consent.domain import (
    Consent,
    ConsentDecision,
    ConsentInput,
    ConsentItem,
    ConsentMethod,
    RecipientKind,
)

_CONSENT_COLUMNS = (
    "id, consultation_id, decision, items, recipient_kind, method, text_version, "
    "obtained_at, obtained_by, recorded_at"
)


async def insert_consent(
    conn: asyncpg.Connection, *, consultation_id: uuid.UUID, consent: ConsentInput, by: str, at: datetime
) -> Consent:
    """The person's decision as given (at `obtained_at`, or now) and recorded now by `by`; it is
    the consultation's latest, returned as stored."""
    row = await conn.fetchrow(
        f"""INSERT INTO consents ({_CONSENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            RETURNING {_CONSENT_COLUMNS}""",
        uuid.uuid4(),
        consultation_id,
        consent.decision.value,
        sorted(i.value for i in consent.items),
        consent.recipient_kind.value,
        consent.method.value,
        consent.text_version,
        consent.obtained_at or at,
        by,
        at,
    )
    return _consent(row)


def _consent(row: asyncpg.Record) -> Consent:
    return from_row(
        Consent,
        row,
        decision=ConsentDecision(row["decision"]),
        items=frozenset(ConsentItem(i) for i in row["items"]),
        recipient_kind=RecipientKind(row["recipient_kind"]),
        method=ConsentMethod(row["method"]),
    )


async def latest_consent(conn: asyncpg.Connection, *, consultation_id: uuid.UUID) -> Consent | None:
    row = await conn.fetchrow(
        f"""SELECT {_CONSENT_COLUMNS} FROM consents WHERE consultation_id = $1
             ORDER BY seq DESC LIMIT 1""",
        consultation_id,
    )
    return _consent(row) if row else None


async def latest_consents(
    conn: asyncpg.Connection, *, consultation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Consent]:
    """The latest consent decision of each of the consultations that has one."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT ON (consultation_id) {_CONSENT_COLUMNS} FROM consents
             WHERE consultation_id = ANY($1::uuid[])
             ORDER BY consultation_id, seq DESC""",
        consultation_ids,
    )
    return {row["consultation_id"]: _consent(row) for row in rows}
