"""Consultations and the rules about them: what is announced, when a case is handed off, what a
change keeps as its revision, who may read one. Pure: no I/O."""

import hashlib
import json
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from contracts.events import ConsultationRecorded
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from eventkit.auth import Principal, Role
from eventkit.errors import Conflict, DomainError
from intake.consent.domain import Consent, ConsentInput
from intake.consultations.handoff import HandoffDecision, closing_after_recording, handoff_decision
from intake.risk.answers import CaseFacts, EmergencyCall, RiskAssessment
from intake.risk.domain import COUNSELLOR_ONLY, CaseDecision, CaseInput, SeverityDecision


class PersonalDataPurged(DomainError):
    """The personal data asked for was removed after its retention period."""

    code = "personal_data_purged"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class CallLegCompleted(Conflict):
    code = "call_leg_completed"


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    address: str | None = None

    def is_empty(self) -> bool:
        return not (self.name or self.phone or self.address)


# ---- consultations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """Which call leg (and the menu version and digit that routed it) or chat brought the case."""

    call_leg_id: uuid.UUID | None = None
    chat_id: uuid.UUID | None = None
    menu_id: uuid.UUID | None = None
    menu_digit: str | None = None


@dataclass(frozen=True)
class NewConsultation:
    channel: Channel
    topic: Topic
    municipality_code: str
    severity: Severity | None
    lawful_basis: LawfulBasis | None
    summary: str
    contact: Contact | None
    need_tags: tuple[IssueTag, ...] = ()
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: str = "ja"
    risk: RiskAssessment | None = None
    severity_reason: str | None = None
    emergency_call: EmergencyCall | None = None
    consent: ConsentInput | None = None
    call_leg_id: uuid.UUID | None = None

    def case_input(self) -> CaseInput:
        return CaseInput(
            channel=self.channel,
            topic=self.topic,
            need_tags=self.need_tags,
            age_band=self.age_band,
            risk=self.risk,
            requested_severity=self.severity,
            severity_reason=self.severity_reason,
            emergency_call=self.emergency_call,
            lawful_basis=self.lawful_basis,
            consent=self.consent,
        )


@dataclass(frozen=True)
class Consultation:
    id: uuid.UUID
    channel: Channel
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis | None
    summary: str | None  # None once the retention purge removed it
    contact: Contact | None
    recorded_by: str
    recorded_at: datetime
    need_tags: tuple[IssueTag, ...] = ()
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: str = "ja"
    risk: RiskAssessment | None = None
    rule_version: str = COUNSELLOR_ONLY
    computed_severity: Severity | None = None
    risk_flags: tuple[str, ...] = ()
    emergency_call: EmergencyCall | None = None
    entry: Entry = field(default_factory=Entry)
    revision: int = 1
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    closed_reason: str | None = None
    purged_at: datetime | None = None

    @property
    def may_be_shared(self) -> bool:
        return self.lawful_basis is not None

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

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
            need_tags=self.need_tags,
            age_band=self.age_band,
            gender=self.gender,
            language=self.language,
        )

    def handoff(self, consent: Consent | None) -> HandoffDecision:
        """From what is stored: the level, the basis and the person's latest consent decision."""
        return handoff_decision(self.severity, self.lawful_basis, consent.decision if consent else None)

    def facts(self) -> CaseFacts | None:
        if self.risk is None:
            return None
        return CaseFacts(self.risk, self.topic, frozenset(self.need_tags), self.age_band)


def may_read(principal: Principal, consultation: Consultation) -> bool:
    """Only the counsellor who recorded a consultation reads it (its personal data with it)."""
    return principal.role is Role.COUNSELLOR and consultation.recorded_by == principal.subject


# Fields whose change is announced again: they are what the event carries.
ANNOUNCED_FIELDS = (
    "topic",
    "municipality_code",
    "severity",
    "lawful_basis",
    "need_tags",
    "age_band",
    "gender",
    "language",
)


def request_fingerprint(new: NewConsultation) -> str:
    """Same key with a different body is a client bug; the fingerprint tells the two apart.

    Fields added after the first release enter the fingerprint only when set, so a retry of a
    request made before them still matches its first answer.
    """
    contact = new.contact
    canonical: dict[str, object] = {
        "channel": new.channel.value,
        "topic": new.topic.value,
        "municipality_code": new.municipality_code,
        "severity": new.severity.value if new.severity else None,
        "lawful_basis": new.lawful_basis.value if new.lawful_basis else None,
        "summary": new.summary,
        "contact": None if contact is None else [contact.name, contact.phone, contact.address],
    }
    consent = new.consent
    extras: dict[str, object] = {
        "need_tags": sorted(t.value for t in new.need_tags) or None,
        "age_band": None if new.age_band is AgeBand.UNKNOWN else new.age_band.value,
        "gender": None if new.gender is Gender.UNKNOWN else new.gender.value,
        "language": None if new.language == "ja" else new.language,
        "risk": new.risk.model_dump(mode="json") if new.risk else None,
        "severity_reason": new.severity_reason,
        "emergency_call": new.emergency_call.model_dump(mode="json") if new.emergency_call else None,
        "consent": None
        if consent is None
        else [
            consent.decision.value,
            sorted(i.value for i in consent.items),
            consent.recipient_kind.value,
            consent.method.value,
            consent.text_version,
            consent.obtained_at.isoformat() if consent.obtained_at else None,
        ],
        "call_leg_id": str(new.call_leg_id) if new.call_leg_id else None,
    }
    canonical |= {k: v for k, v in extras.items() if v is not None}
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def with_decision(
    consultation: Consultation, decision: CaseDecision, risk: RiskAssessment | None
) -> Consultation:
    sev = decision.severity
    return replace(
        consultation,
        severity=sev.final,
        lawful_basis=decision.lawful_basis,
        risk=risk,
        rule_version=sev.rule_version,
        computed_severity=sev.computed,
        risk_flags=sev.flags,
    )


# What a counsellor writes that the consultation keeps under the same name (the level, the basis
# and the answers as the rules' decision has them).
_KEPT_AS_WRITTEN = {f.name for f in fields(NewConsultation)} & {f.name for f in fields(Consultation)}


def recorded(
    new: NewConsultation, decision: CaseDecision, *, id: uuid.UUID, by: str, at: datetime, entry: Entry
) -> Consultation:
    """A new consultation as stored: what the counsellor wrote, judged by the rules' decision; a case
    no handoff follows is closed as soon as it is recorded."""
    closing = closing_after_recording(decision.severity.final, decision.lawful_basis)
    written = {name: getattr(new, name) for name in _KEPT_AS_WRITTEN}
    consultation = Consultation(
        id=id,
        recorded_by=by,
        recorded_at=at,
        entry=entry,
        closed_at=at if closing else None,
        closed_reason=closing,
        **written,
    )
    return with_decision(consultation, decision, new.risk)


# ---- changes and their revisions ------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """A counsellor's update; fields left out (None) stay as they are."""

    topic: Topic | None = None
    municipality_code: str | None = None
    need_tags: tuple[IssueTag, ...] | None = None
    age_band: AgeBand | None = None
    gender: Gender | None = None
    language: str | None = None
    risk: RiskAssessment | None = None
    severity: Severity | None = None
    severity_reason: str | None = None
    emergency_call: EmergencyCall | None = None
    lawful_basis: LawfulBasis | None = None
    consent: ConsentInput | None = None
    summary: str | None = None
    contact: Contact | None = None

    def draft(self, current: Consultation) -> Consultation:
        """The consultation with the fields that need no judging changed."""
        return replace(
            current,
            topic=self.topic or current.topic,
            municipality_code=self.municipality_code or current.municipality_code,
            need_tags=self.need_tags if self.need_tags is not None else current.need_tags,
            age_band=self.age_band or current.age_band,
            gender=self.gender or current.gender,
            language=self.language or current.language,
            emergency_call=self.emergency_call or current.emergency_call,
            summary=self.summary if self.summary is not None else current.summary,
            contact=self.contact if self.contact is not None else current.contact,
        )

    def case_input(self, current: Consultation, draft: Consultation, in_force: Consent | None) -> CaseInput:
        return CaseInput(
            channel=draft.channel,
            topic=draft.topic,
            need_tags=draft.need_tags,
            age_band=draft.age_band,
            risk=self.risk or current.risk,
            requested_severity=self.severity,
            severity_reason=self.severity_reason,
            emergency_call=draft.emergency_call,
            lawful_basis=self.lawful_basis or current.lawful_basis,
            consent=self.consent,
            previous_severity=current.severity,
            consent_in_force=in_force,
        )


# Fields a revision names when they change; the personal ones keep their values encrypted.
TRACKED_FIELDS = (
    "topic",
    "municipality_code",
    "need_tags",
    "age_band",
    "gender",
    "language",
    "risk",
    "severity",
    "lawful_basis",
    "emergency_call",
    "summary",
    "contact",
)
# Kept encrypted in a revision too: the risk assessment is special-care personal data.
PERSONAL_FIELDS = ("summary", "contact", "risk")


def changed_fields(before: Consultation, after: Consultation, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if getattr(before, name) != getattr(after, name)]


def decision_changed(current: Consultation, decision: SeverityDecision) -> bool:
    """A new decision is recorded when the level, its inputs or its reason changed."""
    return (
        decision.final != current.severity
        or decision.computed != current.computed_severity
        or decision.flags != current.risk_flags
        or decision.rule_version != current.rule_version
        or decision.reason is not None
    )


@dataclass(frozen=True)
class Revision:
    revision: int
    fields: list[str]
    before: dict[str, Any]  # the non-personal values before the change
    before_personal: dict[str, Any] | None  # summary, contact and risk before, stored encrypted
    changed_by: str
    changed_at: datetime


def values_before(c: Consultation, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(c, name)
        if name in PERSONAL_FIELDS:
            continue
        if isinstance(value, RiskAssessment | EmergencyCall):
            out[name] = value.model_dump(mode="json")
        elif isinstance(value, tuple):
            out[name] = [str(v) for v in value]
        else:
            out[name] = None if value is None else str(value)
    return out


def personal_values_before(c: Consultation, names: list[str]) -> dict[str, Any] | None:
    personal = {n: getattr(c, n) for n in names if n in PERSONAL_FIELDS}
    if not personal:
        return None
    if "contact" in personal and personal["contact"] is not None:
        personal["contact"] = vars(personal["contact"])
    if isinstance(personal.get("risk"), RiskAssessment):
        personal["risk"] = personal["risk"].model_dump(mode="json")
    return personal
