"""A consultation as intake's HTTP edge answers it, built from the use cases' views."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from intake.domain import (
    Consent,
    ConsentDecision,
    ConsentItem,
    ConsentMethod,
    Contact,
    HandoffDecision,
    NoHandoff,
    RecipientKind,
)
from intake.service import ConsultationView
from intake.severity import EmergencyCall, RiskAssessment


class ContactOut(BaseModel):
    name: str | None
    phone: str | None
    address: str | None

    @classmethod
    def of(cls, c: Contact | None) -> "ContactOut | None":
        return cls(**vars(c)) if c else None


class SeverityOut(BaseModel):
    rule_version: str = Field(description="'counsellor-only' when no risk assessment was given")
    computed: Severity | None
    flags: list[str] = Field(description="Every criterion of the rule version that applied")
    final: Severity


class ConsentOut(BaseModel):
    id: uuid.UUID
    decision: ConsentDecision
    items: list[ConsentItem]
    recipient_kind: RecipientKind
    method: ConsentMethod
    text_version: str
    obtained_at: datetime
    obtained_by: str

    @classmethod
    def of(cls, c: Consent | None) -> "ConsentOut | None":
        if c is None:
            return None
        return cls(
            id=c.id,
            decision=c.decision,
            items=sorted(c.items),
            recipient_kind=c.recipient_kind,
            method=c.method,
            text_version=c.text_version,
            obtained_at=c.obtained_at,
            obtained_by=c.obtained_by,
        )


class EntryOut(BaseModel):
    call_leg_id: uuid.UUID | None
    chat_id: uuid.UUID | None
    menu_id: uuid.UUID | None = Field(description="The voice-menu version that routed the call")
    menu_digit: str | None


class HandoffOut(BaseModel):
    opens: bool = Field(description="A referral to a local support organisation opens for this case")
    reason: NoHandoff | None = Field(
        description=(
            "Why none opens: not_serious (S0/S1), consent_refused (the person refused and no legal "
            "exception is recorded), no_lawful_basis (neither consent nor an exception is recorded), "
            "consent_required (S2 is handed off only with consent). Null when one opens."
        )
    )

    @classmethod
    def of(cls, d: HandoffDecision) -> "HandoffOut":
        return cls(opens=d.opens, reason=d.reason)


class ConsultationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    channel: Channel
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis | None
    summary: str | None = Field(description="None once purged after the retention period")
    contact: ContactOut | None
    recorded_by: str
    recorded_at: datetime
    need_tags: list[IssueTag]
    age_band: AgeBand
    gender: Gender
    language: str
    risk: RiskAssessment | None
    severity_decision: SeverityOut
    emergency_call: EmergencyCall | None
    consent: ConsentOut | None
    handoff: HandoffOut = Field(description="Whether the case is handed off, and if not, why")
    entry: EntryOut
    revision: int
    updated_at: datetime | None
    closed_at: datetime | None
    closed_reason: str | None
    purged_at: datetime | None

    @classmethod
    def of(cls, view: ConsultationView) -> "ConsultationOut":
        c = view.consultation
        return cls(
            id=c.id,
            case_id=c.id,
            channel=c.channel,
            topic=c.topic,
            municipality_code=c.municipality_code,
            severity=c.severity,
            lawful_basis=c.lawful_basis,
            summary=c.summary,
            contact=ContactOut.of(c.contact),
            recorded_by=c.recorded_by,
            recorded_at=c.recorded_at,
            need_tags=list(c.need_tags),
            age_band=c.age_band,
            gender=c.gender,
            language=c.language,
            risk=c.risk,
            severity_decision=SeverityOut(
                rule_version=c.rule_version,
                computed=c.computed_severity,
                flags=list(c.risk_flags),
                final=c.severity,
            ),
            emergency_call=c.emergency_call,
            consent=ConsentOut.of(view.consent),
            handoff=HandoffOut.of(c.handoff(view.consent)),
            entry=EntryOut(**vars(c.entry)),
            revision=c.revision,
            updated_at=c.updated_at,
            closed_at=c.closed_at,
            closed_reason=c.closed_reason,
            purged_at=c.purged_at,
        )
