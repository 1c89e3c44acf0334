"""Consultations and the rules about them. Pure: no I/O."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from contracts.events import ConsultationRecorded
from contracts.vocabulary import Channel, LawfulBasis, Severity, Topic


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    address: str | None = None

    def is_empty(self) -> bool:
        return not (self.name or self.phone or self.address)


@dataclass(frozen=True)
class NewConsultation:
    channel: Channel
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis | None
    summary: str
    contact: Contact | None


@dataclass(frozen=True)
class Consultation:
    id: uuid.UUID
    channel: Channel
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis | None
    summary: str
    contact: Contact | None
    recorded_by: str
    recorded_at: datetime

    @property
    def may_be_shared(self) -> bool:
        return self.lawful_basis is not None

    def recorded_event(self) -> ConsultationRecorded:
        """The announcement: codes and ids only; summary and contact never leave intake here."""
        return ConsultationRecorded(
            case_id=self.id,
            channel=self.channel,
            topic=self.topic,
            municipality_code=self.municipality_code,
            severity=self.severity,
            lawful_basis=self.lawful_basis,
            recorded_at=self.recorded_at,
        )


def request_fingerprint(new: NewConsultation) -> str:
    """Same key with a different body is a client bug; the fingerprint tells the two apart."""
    contact = new.contact
    canonical = {
        "channel": new.channel.value,
        "topic": new.topic.value,
        "municipality_code": new.municipality_code,
        "severity": new.severity.value,
        "lawful_basis": new.lawful_basis.value if new.lawful_basis else None,
        "summary": new.summary,
        "contact": None if contact is None else [contact.name, contact.phone, contact.address],
    }
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()
