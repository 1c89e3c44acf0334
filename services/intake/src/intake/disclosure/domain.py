"""Disclosure to the accepting partner (個人情報保護法 29条): who accepted a case, the provision
record of each release and the hash chain that shows tampering. Pure: no I/O."""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from contracts.vocabulary import Channel, LawfulBasis
from intake.consent.domain import Consent


@dataclass(frozen=True)
class Acceptance:
    """An organisation acknowledged the handoff of a case (from referral's events)."""

    case_id: uuid.UUID
    organisation_id: uuid.UUID
    referral_id: uuid.UUID
    attempt: int
    acknowledged_at: datetime
    withdrawn_at: datetime | None


DISCLOSURE_NOTICE = (
    "この開示は個人情報保護法29条の第三者提供記録として記録されました。"
    "This release is recorded as a third-party provision record (APPI art. 29)."
)
NOTHING_RELEASED = "Nothing personal was released; nothing is recorded."


def provenance(
    *, channel: Channel, recorded_at: datetime, basis: LawfulBasis, consent: Consent | None
) -> str:
    """取得の経緯, which the recipient must record (法30条)."""
    origin = f"#9999 {channel.value} consultation of {recorded_at.date().isoformat()}"
    if basis is LawfulBasis.CONSENT and consent is not None:
        return (
            f"{origin}; consent given {consent.obtained_at.isoformat()} by {consent.method.value} "
            f"(consent text {consent.text_version})"
        )
    return f"{origin}; provided under {basis.value} without consent"


@dataclass(frozen=True)
class ProvisionRecord:
    """One release of personal data. The field names and value types are part of the chain's hash:
    a stored row must hash the same tomorrow."""

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


GENESIS = "0" * 64


def chain_hash(record: ProvisionRecord, prev_hash: str) -> str:
    """SHA-256 over the previous hash and this row's canonical JSON: a removed, reordered or
    altered row breaks every hash after it."""
    body = {k: v for k, v in asdict(record).items() if k not in ("prev_hash", "row_hash")}
    canonical = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    records: int
    first_broken: int | None  # the position (1-based) of the first row whose hash does not follow

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def check_chain(records: list[ProvisionRecord]) -> ChainCheck:
    prev = GENESIS
    for index, record in enumerate(records):
        if record.prev_hash != prev or chain_hash(record, prev) != record.row_hash:
            return ChainCheck(len(records), index + 1)
        prev = record.row_hash
    return ChainCheck(len(records), None)
