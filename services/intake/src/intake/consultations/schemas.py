"""consultations' HTTP models: what a counsellor sends about a case, and a consultation as the
service answers it (also when a call leg or a chat is completed into one)."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from contracts.municipality import CurrentMunicipalityCode
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from eventkit.build import from_attributes
from eventkit.text import Line, Text
from intake.consent.domain import (
    ConsentDecision,
    ConsentInput,
    ConsentItem,
    ConsentMethod,
    RecipientKind,
)
from intake.consultations.domain import Changes, Contact, NewConsultation
from intake.consultations.handoff import HandoffDecision, NoHandoff
from intake.consultations.service import ConsultationView
from intake.risk.answers import EmergencyCall, RiskAssessment
from intake.risk.schemas import DecisionOut

# ---- what a counsellor sends ----------------------------------------------------------------


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9][0-9\- ]{5,28}$")
    address: Text | None = Field(default=None, max_length=500)

    def to_domain(self) -> Contact:
        return Contact(**self.model_dump())


class ConsentIn(BaseModel):
    """Consent to share (or its refusal), as the person gave it."""

    model_config = ConfigDict(extra="forbid")

    decision: ConsentDecision = ConsentDecision.GIVEN
    items: list[ConsentItem] = Field(
        default=[], max_length=len(ConsentItem), description="What may be shared"
    )
    recipient_kind: RecipientKind = RecipientKind.LOCAL_SUPPORT_ORG
    method: ConsentMethod = Field(description="recorded_line (phone), chat_click, written")
    text_version: Line = Field(max_length=40, description="The version of the consent wording read or shown")
    obtained_at: AwareDatetime | None = Field(default=None, description="Defaults to now")

    def to_domain(self) -> ConsentInput:
        return from_attributes(ConsentInput, self, items=frozenset(self.items))


class CaseDetailsIn(BaseModel):
    """What a counsellor records about a case, whatever the channel."""

    model_config = ConfigDict(extra="forbid")

    municipality_code: CurrentMunicipalityCode
    severity: Severity | None = Field(
        default=None,
        description=(
            "The counsellor's final level. Without `risk` it is required and recorded as is "
            "(rule version 'counsellor-only'); with `risk` it may raise the computed level freely "
            "and lower it only with `severity_reason`."
        ),
    )
    severity_reason: Text | None = Field(default=None, max_length=2000, description="Why a level is lowered")
    risk: RiskAssessment | None = Field(
        default=None, description="The structured risk assessment; the severity is computed from it"
    )
    emergency_call: EmergencyCall | None = Field(default=None, description="Required for S4 with `risk`")
    lawful_basis: LawfulBasis | None = Field(
        default=None,
        description="Consent or the legal exception that allows sharing; without it no handoff.",
    )
    consent: ConsentIn | None = None
    summary: Text = Field(min_length=1, max_length=8000, description="Stored encrypted; never sent.")
    contact: ContactIn | None = Field(default=None, description="Stored encrypted; never sent.")
    need_tags: list[IssueTag] = Field(default=[], max_length=len(IssueTag))
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: str = Field(default="ja", pattern=r"^[a-z]{2}$", description="ISO 639-1")

    def details(
        self, channel: Channel, topic: Topic, call_leg_id: uuid.UUID | None = None
    ) -> NewConsultation:
        return from_attributes(
            NewConsultation,
            self,
            channel=channel,
            topic=topic,
            call_leg_id=call_leg_id,
            need_tags=tuple(dict.fromkeys(self.need_tags)),
            contact=self.contact.to_domain() if self.contact else None,
            consent=self.consent.to_domain() if self.consent else None,
        )


class ConsultationIn(CaseDetailsIn):
    channel: Channel
    topic: Topic = Field(description="The voice-menu topic, or the chat's chosen topic.")
    call_leg_id: uuid.UUID | None = Field(
        default=None, description="The phone call this consultation completes (GET /v1/channels/phone/legs)"
    )

    def to_domain(self) -> NewConsultation:
        return self.details(self.channel, self.topic, self.call_leg_id)


class ConsultationPatch(BaseModel):
    """Only the fields sent change; every change is kept as a revision."""

    model_config = ConfigDict(extra="forbid")

    topic: Topic | None = None
    municipality_code: CurrentMunicipalityCode | None = None
    need_tags: list[IssueTag] | None = Field(default=None, max_length=len(IssueTag))
    age_band: AgeBand | None = None
    gender: Gender | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    risk: RiskAssessment | None = None
    severity: Severity | None = None
    severity_reason: Text | None = Field(default=None, max_length=2000)
    emergency_call: EmergencyCall | None = None
    lawful_basis: LawfulBasis | None = None
    consent: ConsentIn | None = None
    summary: Text | None = Field(default=None, min_length=1, max_length=8000)
    contact: ContactIn | None = None

    def to_domain(self) -> Changes:
        return from_attributes(
            Changes,
            self,
            need_tags=tuple(dict.fromkeys(self.need_tags)) if self.need_tags is not None else None,
            consent=self.consent.to_domain() if self.consent else None,
            contact=self.contact.to_domain() if self.contact else None,
        )


# ---- what the service answers ---------------------------------------------------------------


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str | None
    phone: str | None
    address: str | None


class SeverityOut(BaseModel):
    rule_version: str = Field(description="'counsellor-only' when no risk assessment was given")
    computed: Severity | None
    flags: list[str] = Field(description="Every criterion of the rule version that applied")
    final: Severity


# What consent covers, in a stable order (the domain keeps it as a set).
SortedConsentItems = Annotated[list[ConsentItem], BeforeValidator(sorted)]


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    decision: ConsentDecision
    items: SortedConsentItems
    recipient_kind: RecipientKind
    method: ConsentMethod
    text_version: str
    obtained_at: datetime
    obtained_by: str


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    model_config = ConfigDict(from_attributes=True)

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
        """The consultation's own fields as they are; its decision, consent and handoff around them."""
        c = view.consultation
        return cls.model_validate(
            {
                **vars(c),
                "case_id": c.id,
                "severity_decision": SeverityOut(
                    rule_version=c.rule_version,
                    computed=c.computed_severity,
                    flags=list(c.risk_flags),
                    final=c.severity,
                ),
                "consent": view.consent,
                "handoff": HandoffOut.of(c.handoff(view.consent)),
            }
        )


class RevisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    revision: int
    fields: list[str]
    before: dict[str, Any]
    before_personal: dict[str, Any] | None
    changed_by: str
    changed_at: datetime


class SeverityHistoryOut(BaseModel):
    case_id: uuid.UUID
    severity: Severity
    decisions: list[DecisionOut]
