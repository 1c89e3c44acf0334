"""Which columns hold personal data, and the encryption context that binds each value to its place.

The context (table, row, field) is AES-GCM associated data: a ciphertext copied to another row or
column fails to decrypt. Rotation and purge walk this same list, so a new personal column is
added here once and is then encrypted, rotated and purged like the others.
"""

import uuid
from dataclasses import dataclass

from eventkit.crypto import Keyring


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str
    field: str

    def context(self, row_id: uuid.UUID) -> str:
        # Consultations kept their first contexts ('<id>/summary') so older values stay readable.
        if self.table == "consultations":
            return f"{row_id}/{self.field}"
        return f"{self.table}/{row_id}/{self.field}"


SUMMARY = SealedColumn("consultations", "summary_enc", "summary")
CONTACT = SealedColumn("consultations", "contact_enc", "contact")
REVISION_BEFORE = SealedColumn("consultation_revisions", "before_enc", "before")
DECISION_REASON = SealedColumn("severity_decisions", "reason_enc", "reason")
CALLER = SealedColumn("call_legs", "caller_enc", "caller")
LINE_USER = SealedColumn("chats", "user_enc", "user")
MESSAGE_TEXT = SealedColumn("chat_messages", "text_enc", "text")
# The risk assessment as JSON: special-care personal data (要配慮個人情報), kept after the purge
# for statistics, but never in plain text.
RISK = SealedColumn("consultations", "risk_enc", "risk")
DECISION_ANSWERS = SealedColumn("severity_decisions", "answers_enc", "answers")

SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SUMMARY,
    CONTACT,
    REVISION_BEFORE,
    DECISION_REASON,
    CALLER,
    LINE_USER,
    MESSAGE_TEXT,
    RISK,
    DECISION_ANSWERS,
)


class Sealer:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def seal(self, column: SealedColumn, row_id: uuid.UUID, plaintext: str | None) -> str | None:
        if plaintext is None:
            return None
        return self.keyring.encrypt(plaintext, context=column.context(row_id))

    def open(self, column: SealedColumn, row_id: uuid.UUID, token: str | None) -> str | None:
        if token is None:
            return None
        return self.keyring.decrypt(token, context=column.context(row_id))
