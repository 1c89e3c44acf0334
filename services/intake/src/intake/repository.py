"""intake's SQL. Personal fields arrive and leave encrypted; the service layer holds the keys."""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg

from intake.sealing import SealedColumn

# ---- consultations --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredConsultation:
    id: uuid.UUID
    channel: str
    topic: str
    municipality_code: str
    severity: str
    lawful_basis: str | None
    summary_enc: str | None
    contact_enc: str | None
    recorded_by: str
    recorded_at: datetime
    need_tags: list[str]
    age_band: str
    gender: str
    language: str
    rule_version: str
    computed_severity: str | None
    risk: dict[str, Any] | None
    risk_flags: list[str]
    emergency_call: dict[str, Any] | None
    call_leg_id: uuid.UUID | None
    chat_id: uuid.UUID | None
    menu_id: uuid.UUID | None
    menu_digit: str | None
    revision: int
    updated_at: datetime | None
    closed_at: datetime | None
    closed_reason: str | None
    purged_at: datetime | None


_CONSULTATION_FIELDS = [f.name for f in fields(StoredConsultation)]
_COLUMNS = ", ".join(_CONSULTATION_FIELDS)


def _to_stored(row: asyncpg.Record) -> StoredConsultation:
    data = dict(row)
    data["need_tags"] = list(data["need_tags"])
    data["risk_flags"] = list(data["risk_flags"])
    return StoredConsultation(**data)


async def insert_consultation(
    conn: asyncpg.Connection, *, consultation: StoredConsultation, trace_id: str | None
) -> None:
    values = [getattr(consultation, name) for name in _CONSULTATION_FIELDS]
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 2))
    await conn.execute(
        f"INSERT INTO consultations ({_COLUMNS}, trace_id) VALUES ({placeholders})",
        *values,
        trace_id,
    )


async def update_consultation(conn: asyncpg.Connection, *, consultation: StoredConsultation) -> None:
    """Every column but the id and who recorded it when, which never change."""
    fixed = {"id", "recorded_by", "recorded_at", "channel"}
    names = [n for n in _CONSULTATION_FIELDS if n not in fixed]
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE consultations SET {assignments} WHERE id = $1",
        consultation.id,
        *[getattr(consultation, name) for name in names],
    )


async def get_consultation(
    conn: asyncpg.Connection, *, consultation_id: uuid.UUID, for_update: bool = False
) -> StoredConsultation | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM consultations WHERE id = $1{lock}", consultation_id)
    return _to_stored(row) if row else None


async def list_consultations_by(
    conn: asyncpg.Connection, *, recorded_by: str, limit: int, before: datetime | None
) -> list[StoredConsultation]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM consultations
             WHERE recorded_by = $1 AND ($2::timestamptz IS NULL OR recorded_at < $2)
             ORDER BY recorded_at DESC LIMIT $3""",
        recorded_by,
        before,
        limit,
    )
    return [_to_stored(row) for row in rows]


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


@dataclass(frozen=True)
class StoredRevision:
    id: uuid.UUID
    consultation_id: uuid.UUID
    revision: int
    fields: list[str]
    before: dict[str, Any]
    before_enc: str | None
    changed_by: str
    changed_at: datetime


async def insert_revision(conn: asyncpg.Connection, *, revision: StoredRevision) -> None:
    await conn.execute(
        """INSERT INTO consultation_revisions
               (id, consultation_id, revision, fields, before, before_enc, changed_by, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        *asdict(revision).values(),
    )


async def list_revisions(conn: asyncpg.Connection, *, consultation_id: uuid.UUID) -> list[StoredRevision]:
    rows = await conn.fetch(
        """SELECT id, consultation_id, revision, fields, before, before_enc, changed_by, changed_at
             FROM consultation_revisions WHERE consultation_id = $1 ORDER BY revision""",
        consultation_id,
    )
    return [StoredRevision(**{**dict(r), "fields": list(r["fields"])}) for r in rows]


@dataclass(frozen=True)
class StoredDecision:
    id: uuid.UUID
    consultation_id: uuid.UUID
    rule_version: str
    answers: dict[str, Any] | None
    computed_severity: str | None
    flags: list[str]
    previous_severity: str | None
    final_severity: str
    direction: str
    reason_enc: str | None
    decided_by: str
    decided_at: datetime


_DECISION_COLUMNS = ", ".join(f.name for f in fields(StoredDecision))


async def insert_decision(conn: asyncpg.Connection, *, decision: StoredDecision) -> None:
    await conn.execute(
        f"""INSERT INTO severity_decisions ({_DECISION_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        *asdict(decision).values(),
    )


async def list_decisions(conn: asyncpg.Connection, *, consultation_id: uuid.UUID) -> list[StoredDecision]:
    rows = await conn.fetch(
        f"""SELECT {_DECISION_COLUMNS} FROM severity_decisions
             WHERE consultation_id = $1 ORDER BY seq""",
        consultation_id,
    )
    return [StoredDecision(**{**dict(r), "flags": list(r["flags"])}) for r in rows]


@dataclass(frozen=True)
class StoredConsent:
    id: uuid.UUID
    consultation_id: uuid.UUID
    decision: str
    items: list[str]
    recipient_kind: str
    method: str
    text_version: str
    obtained_at: datetime
    obtained_by: str
    recorded_at: datetime


_CONSENT_COLUMNS = ", ".join(f.name for f in fields(StoredConsent))


async def insert_consent(conn: asyncpg.Connection, *, consent: StoredConsent) -> None:
    await conn.execute(
        f"INSERT INTO consents ({_CONSENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        *asdict(consent).values(),
    )


async def latest_consent(conn: asyncpg.Connection, *, consultation_id: uuid.UUID) -> StoredConsent | None:
    row = await conn.fetchrow(
        f"""SELECT {_CONSENT_COLUMNS} FROM consents WHERE consultation_id = $1
             ORDER BY seq DESC LIMIT 1""",
        consultation_id,
    )
    return _to_consent(row) if row else None


async def latest_consents(
    conn: asyncpg.Connection, *, consultation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, StoredConsent]:
    """The latest consent decision of each of the consultations that has one."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT ON (consultation_id) {_CONSENT_COLUMNS} FROM consents
             WHERE consultation_id = ANY($1::uuid[])
             ORDER BY consultation_id, seq DESC""",
        consultation_ids,
    )
    return {row["consultation_id"]: _to_consent(row) for row in rows}


def _to_consent(row: asyncpg.Record) -> StoredConsent:
    return StoredConsent(**{**dict(row), "items": list(row["items"])})


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


# ---- voice menus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredMenu:
    id: uuid.UUID
    campaign: str
    version: int
    greeting: str
    fallback_number: str
    options: list[dict[str, Any]]
    starts_at: datetime | None
    ends_at: datetime | None
    created_by: str
    created_at: datetime


_MENU_COLUMNS = ", ".join(f.name for f in fields(StoredMenu))


async def next_menu_version(conn: asyncpg.Connection, *, campaign: str) -> int:
    # Two operators creating versions of one campaign at once take turns.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('voice_menu:' || $1))", campaign)
    version: int = await conn.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM voice_menus WHERE campaign = $1", campaign
    )
    return version


async def insert_menu(conn: asyncpg.Connection, *, menu: StoredMenu) -> None:
    await conn.execute(
        f"INSERT INTO voice_menus ({_MENU_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        *asdict(menu).values(),
    )


async def get_menu(conn: asyncpg.Connection, *, menu_id: uuid.UUID) -> StoredMenu | None:
    row = await conn.fetchrow(f"SELECT {_MENU_COLUMNS} FROM voice_menus WHERE id = $1", menu_id)
    return StoredMenu(**dict(row)) if row else None


async def list_menus(conn: asyncpg.Connection, *, campaign: str | None, limit: int) -> list[StoredMenu]:
    rows = await conn.fetch(
        f"""SELECT {_MENU_COLUMNS} FROM voice_menus WHERE ($1::text IS NULL OR campaign = $1)
             ORDER BY created_at DESC, campaign, version DESC LIMIT $2""",
        campaign,
        limit,
    )
    return [StoredMenu(**dict(r)) for r in rows]


async def activate_menu(conn: asyncpg.Connection, *, menu_id: uuid.UUID, by: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO voice_menu_activations (menu_id, activated_by, activated_at) VALUES ($1, $2, $3)",
        menu_id,
        by,
        at,
    )


async def active_menu(conn: asyncpg.Connection) -> tuple[StoredMenu, datetime] | None:
    row = await conn.fetchrow(
        f"""SELECT {", ".join("m." + f.name for f in fields(StoredMenu))}, a.activated_at
              FROM voice_menu_activations a JOIN voice_menus m ON m.id = a.menu_id
             ORDER BY a.seq DESC LIMIT 1"""
    )
    if row is None:
        return None
    data = dict(row)
    activated_at = data.pop("activated_at")
    return StoredMenu(**data), activated_at


# ---- call legs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCallLeg:
    id: uuid.UUID
    call_sid: str
    caller_enc: str | None
    called_number: str | None
    menu_id: uuid.UUID | None
    started_at: datetime
    prompts: int
    digit: str | None
    topic: str | None
    chosen_at: datetime | None
    desk_organisation_id: uuid.UUID | None
    routed_to: str | None
    route_reason: str | None
    dial_status: str | None
    dial_duration_s: int | None
    ended_at: datetime | None
    consultation_id: uuid.UUID | None
    completed_by: str | None
    completed_at: datetime | None
    purged_at: datetime | None


_LEG_FIELDS = [f.name for f in fields(StoredCallLeg)]
_LEG_COLUMNS = ", ".join(_LEG_FIELDS)


async def insert_call_leg(conn: asyncpg.Connection, *, leg: StoredCallLeg) -> bool:
    """False if the provider already told us about this call (a retry or a replay)."""
    placeholders = ", ".join(f"${i}" for i in range(1, len(_LEG_FIELDS) + 1))
    inserted = await conn.fetchval(
        f"""INSERT INTO call_legs ({_LEG_COLUMNS}) VALUES ({placeholders})
            ON CONFLICT (call_sid) DO NOTHING RETURNING true""",
        *[getattr(leg, name) for name in _LEG_FIELDS],
    )
    return bool(inserted)


async def update_call_leg(conn: asyncpg.Connection, *, leg: StoredCallLeg) -> None:
    names = [n for n in _LEG_FIELDS if n not in ("id", "call_sid", "started_at")]
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE call_legs SET {assignments} WHERE id = $1", leg.id, *[getattr(leg, n) for n in names]
    )


async def get_call_leg(
    conn: asyncpg.Connection,
    *,
    leg_id: uuid.UUID | None = None,
    call_sid: str | None = None,
    for_update: bool = False,
) -> StoredCallLeg | None:
    lock = " FOR UPDATE" if for_update else ""
    if leg_id is not None:
        row = await conn.fetchrow(f"SELECT {_LEG_COLUMNS} FROM call_legs WHERE id = $1{lock}", leg_id)
    else:
        row = await conn.fetchrow(f"SELECT {_LEG_COLUMNS} FROM call_legs WHERE call_sid = $1{lock}", call_sid)
    return StoredCallLeg(**dict(row)) if row else None


async def list_open_call_legs(
    conn: asyncpg.Connection, *, topic: str | None, limit: int
) -> list[StoredCallLeg]:
    rows = await conn.fetch(
        f"""SELECT {_LEG_COLUMNS} FROM call_legs
             WHERE consultation_id IS NULL AND purged_at IS NULL AND ($1::text IS NULL OR topic = $1)
             ORDER BY started_at DESC LIMIT $2""",
        topic,
        limit,
    )
    return [StoredCallLeg(**dict(r)) for r in rows]


# ---- chats ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredChat:
    id: uuid.UUID
    channel: str
    user_ref: str | None
    user_enc: str | None
    state: str
    topic: str | None
    started_at: datetime
    topic_chosen_at: datetime | None
    taken_by: str | None
    taken_at: datetime | None
    last_activity_at: datetime
    consent: dict[str, Any] | None
    consent_requested: dict[str, Any] | None
    closed_at: datetime | None
    closed_by: str | None
    closed_reason: str | None
    consultation_id: uuid.UUID | None
    purged_at: datetime | None


_CHAT_FIELDS = [f.name for f in fields(StoredChat)]
_CHAT_COLUMNS = ", ".join(_CHAT_FIELDS)


async def insert_chat(conn: asyncpg.Connection, *, chat: StoredChat) -> bool:
    placeholders = ", ".join(f"${i}" for i in range(1, len(_CHAT_FIELDS) + 1))
    inserted = await conn.fetchval(
        f"""INSERT INTO chats ({_CHAT_COLUMNS}) VALUES ({placeholders})
            ON CONFLICT (user_ref) WHERE state <> 'closed' DO NOTHING RETURNING true""",
        *[getattr(chat, name) for name in _CHAT_FIELDS],
    )
    return bool(inserted)


async def update_chat(conn: asyncpg.Connection, *, chat: StoredChat) -> None:
    names = [n for n in _CHAT_FIELDS if n not in ("id", "channel", "started_at")]
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE chats SET {assignments} WHERE id = $1", chat.id, *[getattr(chat, n) for n in names]
    )


async def find_open_chat(conn: asyncpg.Connection, *, user_ref: str) -> StoredChat | None:
    row = await conn.fetchrow(
        f"SELECT {_CHAT_COLUMNS} FROM chats WHERE user_ref = $1 AND state <> 'closed' FOR UPDATE", user_ref
    )
    return StoredChat(**dict(row)) if row else None


async def get_chat(
    conn: asyncpg.Connection, *, chat_id: uuid.UUID, for_update: bool = False
) -> StoredChat | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE id = $1{lock}", chat_id)
    return StoredChat(**dict(row)) if row else None


async def list_chats(
    conn: asyncpg.Connection,
    *,
    state: str,
    topic: str | None,
    taken_by: str | None,
    limit: int,
    since: datetime | None = None,
) -> list[StoredChat]:
    rows = await conn.fetch(
        f"""SELECT {_CHAT_COLUMNS} FROM chats
             WHERE state = $1 AND ($2::text IS NULL OR topic = $2) AND ($3::text IS NULL OR taken_by = $3)
               AND ($5::timestamptz IS NULL OR coalesce(topic_chosen_at, started_at) >= $5)
             ORDER BY coalesce(topic_chosen_at, started_at), started_at, id LIMIT $4""",
        state,
        topic,
        taken_by,
        limit,
        since,
    )
    return [StoredChat(**dict(r)) for r in rows]


async def count_messages(conn: asyncpg.Connection, *, chat_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await conn.fetch(
        "SELECT chat_id, count(*) AS n FROM chat_messages WHERE chat_id = ANY($1::uuid[]) GROUP BY chat_id",
        chat_ids,
    )
    return {r["chat_id"]: r["n"] for r in rows}


@dataclass(frozen=True)
class StoredMessage:
    id: uuid.UUID
    chat_id: uuid.UUID
    sender: str
    counsellor: str | None
    kind: str
    text_enc: str | None
    provider_message_id: str | None
    delivery: str
    at: datetime


_MESSAGE_COLUMNS = ", ".join(f.name for f in fields(StoredMessage))


async def insert_message(conn: asyncpg.Connection, *, message: StoredMessage) -> None:
    await conn.execute(
        f"INSERT INTO chat_messages ({_MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        *asdict(message).values(),
    )


async def set_message_delivery(conn: asyncpg.Connection, *, message_id: uuid.UUID, delivery: str) -> None:
    await conn.execute("UPDATE chat_messages SET delivery = $2 WHERE id = $1", message_id, delivery)


async def list_messages(conn: asyncpg.Connection, *, chat_id: uuid.UUID) -> list[StoredMessage]:
    rows = await conn.fetch(
        f"SELECT {_MESSAGE_COLUMNS} FROM chat_messages WHERE chat_id = $1 ORDER BY seq", chat_id
    )
    return [StoredMessage(**dict(r)) for r in rows]


async def claim_line_event(conn: asyncpg.Connection, *, event_id: str, at: datetime) -> bool:
    """True the first time LINE's webhook event id is seen; a replay or redelivery gets False."""
    claimed = await conn.fetchval(
        """INSERT INTO line_webhook_events (webhook_event_id, received_at) VALUES ($1, $2)
           ON CONFLICT DO NOTHING RETURNING true""",
        event_id,
        at,
    )
    return bool(claimed)


# ---- acceptances and provision records -------------------------------------------------------


@dataclass(frozen=True)
class StoredAcceptance:
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    referral_id: uuid.UUID
    attempt: int
    acknowledged_at: datetime
    withdrawn_at: datetime | None


async def insert_acceptance(conn: asyncpg.Connection, *, acceptance: StoredAcceptance) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO case_acceptances
               (case_id, organisation_id, referral_id, attempt, acknowledged_at, withdrawn_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true""",
        *asdict(acceptance).values(),
    )
    return bool(inserted)


async def withdraw_acceptances(conn: asyncpg.Connection, *, referral_id: uuid.UUID, at: datetime) -> int:
    result: str = await conn.execute(
        "UPDATE case_acceptances SET withdrawn_at = $2 WHERE referral_id = $1 AND withdrawn_at IS NULL",
        referral_id,
        at,
    )
    return int(result.rsplit(" ", 1)[-1])


async def find_acceptance(
    conn: asyncpg.Connection, *, case_id: uuid.UUID, organisation_id: uuid.UUID
) -> StoredAcceptance | None:
    row = await conn.fetchrow(
        """SELECT case_id, organisation_id, referral_id, attempt, acknowledged_at, withdrawn_at
             FROM case_acceptances
            WHERE case_id = $1 AND organisation_id = $2 AND withdrawn_at IS NULL""",
        case_id,
        organisation_id,
    )
    return StoredAcceptance(**dict(row)) if row else None


@dataclass(frozen=True)
class StoredDisclosure:
    id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    referral_id: uuid.UUID | None
    items: list[str]
    lawful_basis: str
    consent_id: uuid.UUID | None
    provenance: str
    released_by: str
    released_at: datetime
    prev_hash: str = ""
    row_hash: str = ""


_DISCLOSURE_FIELDS = [f.name for f in fields(StoredDisclosure)]
_DISCLOSURE_COLUMNS = ", ".join(_DISCLOSURE_FIELDS)
_GENESIS = "0" * 64
_CHAIN_LOCK = 7_305_501


def disclosure_hash(record: StoredDisclosure, prev_hash: str) -> str:
    """SHA-256 over the previous hash and this row's canonical JSON: a removed, reordered or
    altered row breaks every hash after it."""
    body = {k: v for k, v in asdict(record).items() if k not in ("prev_hash", "row_hash")}
    canonical = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


async def append_disclosure(conn: asyncpg.Connection, *, record: StoredDisclosure) -> StoredDisclosure:
    # One chain for the whole table: appends take turns, which their rarity makes cheap.
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _CHAIN_LOCK)
    prev = await conn.fetchval("SELECT row_hash FROM disclosures ORDER BY seq DESC LIMIT 1") or _GENESIS
    chained = StoredDisclosure(
        **{**asdict(record), "prev_hash": prev, "row_hash": disclosure_hash(record, prev)}
    )
    placeholders = ", ".join(f"${i}" for i in range(1, len(_DISCLOSURE_FIELDS) + 1))
    await conn.execute(
        f"INSERT INTO disclosures ({_DISCLOSURE_COLUMNS}) VALUES ({placeholders})",
        *[getattr(chained, n) for n in _DISCLOSURE_FIELDS],
    )
    return chained


def _disclosure(row: asyncpg.Record) -> StoredDisclosure:
    return StoredDisclosure(**{**dict(row), "items": list(row["items"])})


async def list_disclosures(
    conn: asyncpg.Connection, *, case_id: uuid.UUID | None = None, organisation_id: uuid.UUID | None = None
) -> list[StoredDisclosure]:
    rows = await conn.fetch(
        f"""SELECT {_DISCLOSURE_COLUMNS} FROM disclosures
             WHERE ($1::uuid IS NULL OR case_id = $1) AND ($2::uuid IS NULL OR organisation_id = $2)
             ORDER BY seq""",
        case_id,
        organisation_id,
    )
    return [_disclosure(r) for r in rows]


async def disclosure_chain(conn: asyncpg.Connection) -> list[StoredDisclosure]:
    rows = await conn.fetch(f"SELECT {_DISCLOSURE_COLUMNS} FROM disclosures ORDER BY seq")
    return [_disclosure(r) for r in rows]


# ---- retention and rotation -----------------------------------------------------------------


async def purge_closed_consultations(
    conn: asyncpg.Connection, *, closed_before: datetime, at: datetime
) -> list[uuid.UUID]:
    """Remove the personal data of consultations closed before the cut-off; codes, severity,
    risk answers and decisions stay for statistics."""
    rows = await conn.fetch(
        """UPDATE consultations SET summary_enc = NULL, contact_enc = NULL, purged_at = $2
            WHERE closed_at < $1 AND purged_at IS NULL RETURNING id, call_leg_id, chat_id""",
        closed_before,
        at,
    )
    ids = [r["id"] for r in rows]
    if not ids:
        return []
    await conn.execute(
        "UPDATE consultation_revisions SET before_enc = NULL WHERE consultation_id = ANY($1::uuid[])", ids
    )
    await conn.execute(
        "UPDATE severity_decisions SET reason_enc = NULL WHERE consultation_id = ANY($1::uuid[])", ids
    )
    return ids


async def purge_call_legs(
    conn: asyncpg.Connection, *, consultation_ids: list[uuid.UUID], stale_before: datetime, at: datetime
) -> int:
    """Caller numbers of purged consultations, and of calls never completed into one in time."""
    result: str = await conn.execute(
        """UPDATE call_legs SET caller_enc = NULL, purged_at = $3
            WHERE purged_at IS NULL
              AND (consultation_id = ANY($1::uuid[]) OR (consultation_id IS NULL AND started_at < $2))""",
        consultation_ids,
        stale_before,
        at,
    )
    return int(result.rsplit(" ", 1)[-1])


async def purge_chats(
    conn: asyncpg.Connection, *, consultation_ids: list[uuid.UUID], stale_before: datetime, at: datetime
) -> int:
    """Transcripts and LINE user ids of purged consultations, and of chats abandoned long ago."""
    rows = await conn.fetch(
        """UPDATE chats SET user_enc = NULL, user_ref = NULL, consent = NULL, purged_at = $3
            WHERE purged_at IS NULL
              AND (consultation_id = ANY($1::uuid[])
                   OR (consultation_id IS NULL AND last_activity_at < $2))
          RETURNING id""",
        consultation_ids,
        stale_before,
        at,
    )
    ids = [r["id"] for r in rows]
    if ids:
        # Stale chats that were never closed are closed now: nobody is left to answer them.
        await conn.execute(
            """UPDATE chats SET state = 'closed', closed_at = $2, closed_reason = 'expired'
                WHERE id = ANY($1::uuid[]) AND state <> 'closed'""",
            ids,
            at,
        )
        await conn.execute("UPDATE chat_messages SET text_enc = NULL WHERE chat_id = ANY($1::uuid[])", ids)
    return len(ids)


async def count_sealed_not_under(conn: asyncpg.Connection, *, column: SealedColumn, key_id: str) -> int:
    count: int = await conn.fetchval(
        f"""SELECT count(*) FROM {column.table}
             WHERE {column.column} IS NOT NULL AND split_part({column.column}, '.', 2) <> $1""",
        key_id,
    )
    return count


async def lock_sealed_batch(
    conn: asyncpg.Connection, *, column: SealedColumn, key_id: str, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Values under another key than `key_id`, locked until the caller's transaction ends."""
    rows = await conn.fetch(
        f"""SELECT id, {column.column} AS value FROM {column.table}
             WHERE {column.column} IS NOT NULL AND split_part({column.column}, '.', 2) <> $1
             ORDER BY id LIMIT $2 FOR UPDATE""",
        key_id,
        limit,
    )
    return [(r["id"], r["value"]) for r in rows]


async def store_sealed(
    conn: asyncpg.Connection, *, column: SealedColumn, values: list[tuple[uuid.UUID, str]]
) -> None:
    await conn.executemany(
        f"UPDATE {column.table} SET {column.column} = $2 WHERE id = $1",
        values,
    )
