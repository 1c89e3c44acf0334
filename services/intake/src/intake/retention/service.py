"""retention's use cases: key rotation (a command) and the retention purge (a command and a worker).
Both walk `sealing.SEALED_COLUMNS`, the one list of where personal data lives."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from eventkit.crypto import DecryptionError, Keyring
from intake.retention import repository
from intake.sealing import DECISION_ANSWERS, REVISION_BEFORE, RISK, SEALED_COLUMNS, Sealer


async def seal_plain_risk(pool: asyncpg.Pool, keyring: Keyring, *, batch_size: int = 200) -> int:
    """Seal the risk assessments (of consultations and of severity decisions) written in plain JSON
    before migration 0005; how many were. Batches commit one by one, so an interrupted run
    resumes; with none left it is two queries."""
    sealer = Sealer(keyring)
    total = 0
    for column, plain in ((RISK, "risk"), (DECISION_ANSWERS, "answers")):
        while True:
            async with pool.acquire() as conn, conn.transaction():
                batch = await repository.lock_plain_risk_batch(
                    conn, column=column, plain=plain, limit=batch_size
                )
                if batch:
                    sealed = [(row_id, sealer.seal(column, row_id, text) or "") for row_id, text in batch]
                    await repository.store_sealed_risk(conn, column=column, plain=plain, values=sealed)
            if not batch:
                break
            total += len(batch)
    return total + await _seal_revisions_plain_risk(pool, sealer, batch_size=batch_size)


async def _seal_revisions_plain_risk(pool: asyncpg.Pool, sealer: Sealer, *, batch_size: int) -> int:
    """A revision kept the risk before a change in its plain `before`: it joins the sealed values."""
    total = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            batch = await repository.lock_revisions_with_plain_risk(conn, limit=batch_size)
            values = []
            for row_id, risk, token in batch:
                personal = json.loads(sealer.open(REVISION_BEFORE, row_id, token) or "{}")
                personal["risk"] = json.loads(risk)
                values.append(
                    (row_id, sealer.seal(REVISION_BEFORE, row_id, json.dumps(personal, ensure_ascii=False)))
                )
            await repository.store_revision_risk_sealed(conn, values=values)
        if not batch:
            return total
        total += len(batch)


class RotationFailed(Exception):
    pass


@dataclass
class RotationReport:
    active_key: str
    re_encrypted: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.re_encrypted.values())


async def rotate_keys(
    pool: asyncpg.Pool,
    keyring: Keyring,
    *,
    batch_size: int = 200,
    progress: Callable[[str], None] = lambda _: None,
) -> RotationReport:
    """Re-encrypt every personal value not under the ring's first key with that key.

    Batches commit one by one, so a stopped rotation resumes where it stopped; values written
    meanwhile already use the active key. Once it reports nothing left, older keys can leave the
    ring.
    """
    active = keyring.active_key_id
    report = RotationReport(active)
    progress(f"rotate-keys: the active key is {active}")
    if sealed := await seal_plain_risk(pool, keyring, batch_size=batch_size):
        progress(f"  consultations.risk: {sealed} plain assessments sealed")
    for column in SEALED_COLUMNS:
        name = f"{column.table}.{column.column}"
        async with pool.acquire() as conn:
            pending = await repository.count_sealed_not_under(conn, column=column, key_id=active)
        done = 0
        while pending:
            async with pool.acquire() as conn, conn.transaction():
                batch = await repository.lock_sealed_batch(
                    conn, column=column, key_id=active, limit=batch_size
                )
                if not batch:
                    break
                fresh = []
                for row_id, token in batch:
                    context = column.context(row_id)
                    try:
                        plain = keyring.decrypt(token, context=context)
                    except DecryptionError as error:
                        raise RotationFailed(
                            f"{name} row {row_id}: {error} — put the key that wrote it back in the ring"
                        ) from None
                    fresh.append((row_id, keyring.encrypt(plain, context=context)))
                await repository.store_sealed(conn, column=column, values=fresh)
            done += len(batch)
            progress(f"  {name}: {done}/{max(pending, done)} re-encrypted")
        report.re_encrypted[name] = done
        if not done:
            progress(f"  {name}: nothing under older keys")
    progress(f"rotate-keys: done, {report.total} values now under {active}")
    return report


@dataclass(frozen=True)
class PurgeReport:
    consultations: int
    call_legs: int
    chats: int

    @property
    def anything(self) -> bool:
        return bool(self.consultations or self.call_legs or self.chats)


async def purge(pool: asyncpg.Pool, *, now: datetime, retention_days: int) -> PurgeReport:
    """Remove personal data of consultations closed more than `retention_days` ago, and of call
    legs and chats that never became one within that time. Codes, severity, risk answers,
    decisions and provision records stay: they are the statistics and the audit trail."""
    cutoff = now - timedelta(days=retention_days)
    async with pool.acquire() as conn, conn.transaction():
        ids = await repository.purge_closed_consultations(conn, closed_before=cutoff, at=now)
        legs = await repository.purge_call_legs(conn, consultation_ids=ids, stale_before=cutoff, at=now)
        chats = await repository.purge_chats(conn, consultation_ids=ids, stale_before=cutoff, at=now)
    return PurgeReport(len(ids), legs, chats)
