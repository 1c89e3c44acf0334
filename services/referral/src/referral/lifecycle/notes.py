"""The notes people write about a case — a partner's reason for declining, an operator's account of
how it was handled elsewhere — sealed with referral's keyring, each bound to its row (AES-GCM
associated data: a note copied to another row does not decrypt). Written, never read back by the
service; an auditor opens them with the keyring.

Notes written in plain text by older versions are sealed by `NoteSealer` on start.
"""

import logging
import uuid

import asyncpg

from eventkit import telemetry
from eventkit.crypto import Keyring
from eventkit.worker import PollingWorker

log = logging.getLogger(__name__)


def decline_context(referral_id: uuid.UUID, attempt: int) -> str:
    return f"handoff_attempts/{referral_id}/{attempt}/decline_note"


def handled_elsewhere_context(referral_id: uuid.UUID) -> str:
    return f"handled_elsewhere_notes/{referral_id}/note"


async def seal_plain_notes(pool: asyncpg.Pool, keyring: Keyring) -> int:
    """Seal the notes older versions stored in plain text; how many were."""
    async with pool.acquire() as conn, conn.transaction():
        declines = await conn.fetch(
            """SELECT referral_id, attempt, decline_note FROM handoff_attempts
                WHERE decline_note IS NOT NULL FOR UPDATE"""
        )
        await conn.executemany(
            """UPDATE handoff_attempts SET decline_note_enc = $3, decline_note = NULL
                WHERE referral_id = $1 AND attempt = $2""",
            [
                (
                    r["referral_id"],
                    r["attempt"],
                    keyring.encrypt(
                        r["decline_note"], context=decline_context(r["referral_id"], r["attempt"])
                    ),
                )
                for r in declines
            ],
        )
        handled = await conn.fetch(
            "SELECT referral_id, note FROM handled_elsewhere_notes WHERE note IS NOT NULL FOR UPDATE"
        )
        await conn.executemany(
            "UPDATE handled_elsewhere_notes SET note_enc = $2, note = NULL WHERE referral_id = $1",
            [
                (
                    r["referral_id"],
                    keyring.encrypt(r["note"], context=handled_elsewhere_context(r["referral_id"])),
                )
                for r in handled
            ],
        )
    return len(declines) + len(handled)


class NoteSealer(PollingWorker):
    """Seals what older versions left in plain text, once at start (then rarely: nothing is left)."""

    name = "note sealer"

    def __init__(self, *, pool: asyncpg.Pool, keyring: Keyring, interval_s: float = 3600) -> None:
        super().__init__(interval_s=interval_s)
        self._pool = pool
        self._keyring = keyring

    async def poll_once(self) -> bool:
        with telemetry.quiet():
            sealed = await seal_plain_notes(self._pool, self._keyring)
        if sealed:
            log.info("sealed %d notes written in plain text", sealed)
        return False
