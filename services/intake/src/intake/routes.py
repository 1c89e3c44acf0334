"""intake's HTTP edge for consultations and disclosures: request model → service call → response."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.municipality import CurrentMunicipalityCode
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from eventkit.errors import ERROR_RESPONSES
from intake import service
from intake.deps import (
    Counsellor,
    CounsellorOrOperator,
    Now,
    Operator,
    OperatorOrPartner,
    Partner,
    Pool,
    Seal,
)
from intake.domain import (
    ConsentDecision,
    ConsentInput,
    ConsentItem,
    ConsentMethod,
    Contact,
    NewConsultation,
    RecipientKind,
)
from intake.repository import StoredDisclosure
from intake.responses import ConsultationOut, ContactOut
from intake.severity import EmergencyCall, RiskAssessment

router = APIRouter(prefix="/v1", tags=["consultations"], responses=ERROR_RESPONSES)


# ---- request models -------------------------------------------------------------------------


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9][0-9\- ]{5,28}$")
    address: str | None = Field(default=None, max_length=500)

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
    text_version: str = Field(max_length=40, description="The version of the consent wording read or shown")
    obtained_at: AwareDatetime | None = Field(default=None, description="Defaults to now")

    def to_domain(self) -> ConsentInput:
        return ConsentInput(
            decision=self.decision,
            items=frozenset(self.items),
            recipient_kind=self.recipient_kind,
            method=self.method,
            text_version=self.text_version,
            obtained_at=self.obtained_at,
        )


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
    severity_reason: str | None = Field(default=None, max_length=2000, description="Why a level is lowered")
    risk: RiskAssessment | None = Field(
        default=None, description="The structured risk assessment; the severity is computed from it"
    )
    emergency_call: EmergencyCall | None = Field(default=None, description="Required for S4 with `risk`")
    lawful_basis: LawfulBasis | None = Field(
        default=None,
        description="Consent or the legal exception that allows sharing; without it no handoff.",
    )
    consent: ConsentIn | None = None
    summary: str = Field(min_length=1, max_length=8000, description="Stored encrypted; never sent.")
    contact: ContactIn | None = Field(default=None, description="Stored encrypted; never sent.")
    need_tags: list[IssueTag] = Field(default=[], max_length=len(IssueTag))
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: str = Field(default="ja", pattern=r"^[a-z]{2}$", description="ISO 639-1")

    def details(
        self, channel: Channel, topic: Topic, call_leg_id: uuid.UUID | None = None
    ) -> NewConsultation:
        return NewConsultation(
            channel=channel,
            topic=topic,
            municipality_code=self.municipality_code,
            severity=self.severity,
            lawful_basis=self.lawful_basis,
            summary=self.summary,
            contact=self.contact.to_domain() if self.contact else None,
            need_tags=tuple(dict.fromkeys(self.need_tags)),
            age_band=self.age_band,
            gender=self.gender,
            language=self.language,
            risk=self.risk,
            severity_reason=self.severity_reason,
            emergency_call=self.emergency_call,
            consent=self.consent.to_domain() if self.consent else None,
            call_leg_id=call_leg_id,
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
    severity_reason: str | None = Field(default=None, max_length=2000)
    emergency_call: EmergencyCall | None = None
    lawful_basis: LawfulBasis | None = None
    consent: ConsentIn | None = None
    summary: str | None = Field(default=None, min_length=1, max_length=8000)
    contact: ContactIn | None = None

    def to_domain(self) -> service.Changes:
        return service.Changes(
            topic=self.topic,
            municipality_code=self.municipality_code,
            need_tags=tuple(dict.fromkeys(self.need_tags)) if self.need_tags is not None else None,
            age_band=self.age_band,
            gender=self.gender,
            language=self.language,
            risk=self.risk,
            severity=self.severity,
            severity_reason=self.severity_reason,
            emergency_call=self.emergency_call,
            lawful_basis=self.lawful_basis,
            consent=self.consent.to_domain() if self.consent else None,
            summary=self.summary,
            contact=self.contact.to_domain() if self.contact else None,
        )


# ---- consultations --------------------------------------------------------------------------


@router.post(
    "/consultations",
    status_code=201,
    response_model=ConsultationOut,
    summary="Record a consultation",
    description=(
        "Stores the consultation (summary and contact encrypted) and announces it as "
        "`consultation.recorded.v2` without personal data. With `risk`, the severity is computed by "
        "the current rule version; with `call_leg_id`, it completes that phone call. A retry with "
        "the same `Idempotency-Key` returns the first result with status 200."
    ),
)
async def record_consultation(
    body: ConsultationIn,
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    now: Now,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=200, description="Makes retries safe.")
    ] = None,
) -> ConsultationOut:
    consultation, created = await service.record_consultation(
        pool, sealer, principal=principal, new=body.to_domain(), idempotency_key=idempotency_key, now=now
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/consultations/{consultation.id}"
    if body.consent is None and created:
        return ConsultationOut.of(service.ConsultationView(consultation, consent=None))
    view = await service.get_consultation(pool, sealer, principal=principal, consultation_id=consultation.id)
    return ConsultationOut.of(view)


@router.get(
    "/consultations/{consultation_id}",
    response_model=ConsultationOut,
    summary="Read one of your consultations",
)
async def get_consultation(
    consultation_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal
) -> ConsultationOut:
    view = await service.get_consultation(pool, sealer, principal=principal, consultation_id=consultation_id)
    return ConsultationOut.of(view)


@router.patch(
    "/consultations/{consultation_id}",
    response_model=ConsultationOut,
    summary="Change one of your consultations (kept as a revision)",
    description=(
        "Raising the severity is free; lowering it needs `severity_reason`. When the topic, area, "
        "severity, basis or needs change, `consultation.recorded.v2` is announced again."
    ),
)
async def update_consultation(
    consultation_id: uuid.UUID,
    body: ConsultationPatch,
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    now: Now,
) -> ConsultationOut:
    view = await service.update_consultation(
        pool, sealer, principal=principal, consultation_id=consultation_id, changes=body.to_domain(), now=now
    )
    return ConsultationOut.of(view)


@router.post(
    "/consultations/{consultation_id}/close",
    response_model=ConsultationOut,
    summary="Close one of your consultations (its retention period starts)",
)
async def close_consultation(
    consultation_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal, now: Now
) -> ConsultationOut:
    view = await service.close_consultation(
        pool, sealer, principal=principal, consultation_id=consultation_id, now=now
    )
    return ConsultationOut.of(view)


@router.get(
    "/consultations",
    response_model=list[ConsultationOut],
    summary="List the consultations you recorded, newest first",
)
async def list_consultations(
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[datetime | None, Query(description="Page: recorded before this time")] = None,
) -> list[ConsultationOut]:
    found = await service.list_own_consultations(
        pool, sealer, principal=principal, limit=limit, before=before
    )
    return [ConsultationOut.of(view) for view in found]


class RevisionOut(BaseModel):
    revision: int
    fields: list[str]
    before: dict[str, Any]
    before_personal: dict[str, Any] | None
    changed_by: str
    changed_at: datetime


@router.get(
    "/consultations/{consultation_id}/revisions",
    response_model=list[RevisionOut],
    summary="The history of one of your consultations",
)
async def list_revisions(
    consultation_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal
) -> list[RevisionOut]:
    found = await service.list_revisions(pool, sealer, principal=principal, consultation_id=consultation_id)
    return [RevisionOut(**vars(r)) for r in found]


class CriterionOut(BaseModel):
    code: str
    level: Severity
    text: str
    text_ja: str


class ExplanationOut(BaseModel):
    reproduced: bool = Field(description="The stored answers give the stored level under the stored rules")
    level: Severity
    criteria: list[CriterionOut]


class DecisionOut(BaseModel):
    rule_version: str
    answers: RiskAssessment | None
    computed: Severity | None
    flags: list[str]
    previous: Severity | None
    final: Severity
    direction: str
    reason: str | None
    decided_by: str
    decided_at: datetime
    explanation: ExplanationOut | None


class SeverityHistoryOut(BaseModel):
    case_id: uuid.UUID
    severity: Severity
    decisions: list[DecisionOut]


@router.get(
    "/consultations/{consultation_id}/severity",
    response_model=SeverityHistoryOut,
    summary="Every severity decision of one of your consultations, explained",
    description="Each decision is re-derived from its stored answers under its stored rule version.",
)
async def severity_history(
    consultation_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal
) -> SeverityHistoryOut:
    consultation, decisions = await service.severity_history(
        pool, sealer, principal=principal, consultation_id=consultation_id
    )
    out = []
    for d in decisions:
        explanation = None
        if d.explanation is not None:
            explanation = ExplanationOut(
                reproduced=d.explanation.reproduced,
                level=d.explanation.level,
                criteria=[
                    CriterionOut(code=c.code, level=c.level, text=c.text, text_ja=c.text_ja)
                    for c in d.explanation.criteria
                ],
            )
        out.append(
            DecisionOut(
                rule_version=d.rule_version,
                answers=d.answers,
                computed=d.computed,
                flags=list(d.flags),
                previous=d.previous,
                final=d.final,
                direction=d.direction,
                reason=d.reason,
                decided_by=d.decided_by,
                decided_at=d.decided_at,
                explanation=explanation,
            )
        )
    return SeverityHistoryOut(case_id=consultation.id, severity=consultation.severity, decisions=out)


# ---- severity dry run -----------------------------------------------------------------------


class SeverityComputeIn(BaseModel):
    """The answers of a consultation being written: the same risk assessment as a consultation's."""

    model_config = ConfigDict(extra="forbid")

    topic: Topic
    need_tags: list[IssueTag] = Field(default=[], max_length=len(IssueTag))
    age_band: AgeBand = AgeBand.UNKNOWN
    risk: RiskAssessment = Field(default_factory=RiskAssessment)


class SeverityComputedOut(BaseModel):
    rule_version: str = Field(description="The rule version that computed the level")
    severity: Severity = Field(description="The computed level")
    reasons: list[str] = Field(description="The code of every criterion that applied")
    criteria: list[CriterionOut] = Field(description="The same criteria, with their wording")
    suicide_involved: bool = Field(description="The C-SSRS screener is mandatory for this case")
    mandatory: list[str] = Field(description="The C-SSRS questions to ask, following its skips")
    missing: list[str] = Field(description="The mandatory C-SSRS questions still unanswered")
    missing_fields: list[str] = Field(description="The same, as field paths of a consultation's body")


@router.post(
    "/severity/compute",
    response_model=SeverityComputedOut,
    tags=["severity"],
    summary="Compute a severity from a risk assessment without recording anything (dry run)",
    description=(
        "Applies the current rule version to the answers, as recording a consultation would, and "
        "says which C-SSRS questions are mandatory and still missing. Nothing is stored or announced."
    ),
)
async def compute_severity(body: SeverityComputeIn, principal: CounsellorOrOperator) -> SeverityComputedOut:
    result = service.compute_severity(
        topic=body.topic, need_tags=frozenset(body.need_tags), age_band=body.age_band, risk=body.risk
    )
    return SeverityComputedOut(
        rule_version=result.rule_version,
        severity=result.severity,
        reasons=[c.code for c in result.reasons],
        criteria=[
            CriterionOut(code=c.code, level=c.level, text=c.text, text_ja=c.text_ja) for c in result.reasons
        ],
        suicide_involved=result.cssrs_mandatory,
        mandatory=list(result.mandatory),
        missing=list(result.missing),
        missing_fields=list(result.missing_fields),
    )


# ---- minimum disclosure to the accepting partner --------------------------------------------


class DisclosureOut(BaseModel):
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    lawful_basis: LawfulBasis | None
    items: list[ConsentItem] = Field(description="What consent (or the legal basis) lets you receive")
    withheld: list[ConsentItem]
    contact: ContactOut | None
    summary: str | None
    risk: RiskAssessment | None
    municipality_code: str
    severity: Severity
    topic: Topic
    need_tags: list[IssueTag]
    age_band: AgeBand
    language: str
    provision_id: uuid.UUID | None = Field(description="The provision record of this release")
    released_at: datetime | None
    notice: str


@router.get(
    "/cases/{case_id}/disclosure",
    response_model=DisclosureOut,
    tags=["disclosure"],
    summary="As the accepting partner, receive the case's contact details and summary",
    description=(
        "Only the organisation that acknowledged the handoff, and only what the person consented "
        "to (or what the legal basis allows). Every release is recorded as a third-party provision "
        "record. Other organisations get 404."
    ),
)
async def disclose(
    case_id: uuid.UUID,
    principal: Partner,
    pool: Pool,
    sealer: Seal,
    now: Now,
    items: Annotated[list[ConsentItem] | None, Query(description="Ask for less than allowed")] = None,
) -> DisclosureOut:
    d = await service.disclose(
        pool,
        sealer,
        principal=principal,
        case_id=case_id,
        wanted=frozenset(items) if items else None,
        now=now,
    )
    c = d.consultation
    return DisclosureOut(
        case_id=c.id,
        organisation_id=d.organisation_id,
        lawful_basis=d.lawful_basis,
        items=sorted(d.items),
        withheld=sorted(d.withheld),
        contact=ContactOut.of(c.contact) if ConsentItem.CONTACT in d.items else None,
        summary=c.summary if ConsentItem.SUMMARY in d.items else None,
        risk=c.risk if ConsentItem.RISK in d.items else None,
        municipality_code=c.municipality_code,
        severity=c.severity,
        topic=c.topic,
        need_tags=list(c.need_tags),
        age_band=c.age_band,
        language=c.language,
        provision_id=d.record.id if d.record else None,
        released_at=d.record.released_at if d.record else None,
        notice=service.DISCLOSURE_NOTICE
        if d.record
        else "Nothing personal was released; nothing is recorded.",
    )


class ProvisionRecordOut(BaseModel):
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
    row_hash: str

    @classmethod
    def of(cls, r: StoredDisclosure) -> "ProvisionRecordOut":
        return cls(**{k: v for k, v in vars(r).items() if k != "prev_hash"})


@router.get(
    "/cases/{case_id}/disclosures",
    response_model=list[ProvisionRecordOut],
    tags=["disclosure"],
    summary="The provision records of a case",
)
async def case_disclosures(
    case_id: uuid.UUID, principal: CounsellorOrOperator, pool: Pool
) -> list[ProvisionRecordOut]:
    found = await service.list_disclosures(pool, principal=principal, case_id=case_id)
    return [ProvisionRecordOut.of(r) for r in found]


@router.get(
    "/partners/{organisation_id}/disclosures",
    response_model=list[ProvisionRecordOut],
    tags=["disclosure"],
    summary="The provision records to an organisation (a partner sees only its own)",
)
async def partner_disclosures(
    organisation_id: uuid.UUID, principal: OperatorOrPartner, pool: Pool
) -> list[ProvisionRecordOut]:
    found = await service.list_disclosures(pool, principal=principal, organisation_id=organisation_id)
    return [ProvisionRecordOut.of(r) for r in found]


class ChainOut(BaseModel):
    records: int
    intact: bool
    first_broken: int | None


@router.get(
    "/disclosures/integrity",
    response_model=ChainOut,
    tags=["disclosure"],
    summary="Check the provision records' hash chain",
)
async def disclosure_integrity(principal: Operator, pool: Pool) -> ChainOut:
    count, broken = await service.verify_disclosure_chain(pool)
    return ChainOut(records=count, intact=broken is None, first_broken=broken)
