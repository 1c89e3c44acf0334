"""Consultations, consent and the rules about them. Pure: no I/O."""

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from contracts.events import ConsultationRecorded
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from intake import severity as rules
from intake.severity import (
    Assessment,
    CaseFacts,
    EmergencyCall,
    LoweringNeedsReason,
    RiskAssessment,
    SeverityDecision,
)


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    address: str | None = None

    def is_empty(self) -> bool:
        return not (self.name or self.phone or self.address)


# ---- consent and lawful basis (個人情報保護法 27条) ------------------------------------------


class ConsentItem(StrEnum):
    """What a recipient may receive; codes and ids travel anyway, these are the personal parts."""

    CONTACT = "contact"  # name, phone, address
    SUMMARY = "summary"  # the consultation's narrative
    RISK = "risk"  # the structured risk answers


class RecipientKind(StrEnum):
    # Every directory partner is one of these: NPOs, 社会福祉協議会, 自立相談支援機関, public desks.
    LOCAL_SUPPORT_ORG = "local_support_org"
    MEDICAL = "medical"
    POLICE = "police"


class ConsentMethod(StrEnum):
    RECORDED_LINE = "recorded_line"  # said on a recorded phone line
    CHAT_CLICK = "chat_click"  # clicked in the chat
    WRITTEN = "written"


class ConsentDecision(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"


# The words the person agreed to, by version; a consent names the version it was given under.
CONSENT_TEXTS: dict[str, str] = {
    "2026-11-v1": (
        "ご相談の内容と連絡先を、お住まいの地域の支援団体(NPO・社会福祉協議会・自治体の相談窓口など)に"
        "お伝えし、その団体から連絡や面談・同行支援のご案内をさせていただいてもよろしいですか。"
        "お伝えするのは支援に必要な範囲に限り、お伝えした記録を残します。"
    ),
}
CURRENT_CONSENT_TEXT = "2026-11-v1"


@dataclass(frozen=True)
class ConsentInput:
    decision: ConsentDecision
    items: frozenset[ConsentItem]
    recipient_kind: RecipientKind
    method: ConsentMethod
    text_version: str
    obtained_at: datetime | None = None


@dataclass(frozen=True)
class Consent:
    id: uuid.UUID
    decision: ConsentDecision
    items: frozenset[ConsentItem]
    recipient_kind: RecipientKind
    method: ConsentMethod
    text_version: str
    obtained_at: datetime
    obtained_by: str
    recorded_at: datetime

    @property
    def given(self) -> bool:
        return self.decision is ConsentDecision.GIVEN


def disclosable_items(basis: LawfulBasis | None, consent: Consent | None) -> frozenset[ConsentItem]:
    """What personal data a local support organisation may receive about the case.

    With consent, exactly the consented items to the consented kind of recipient. Under a legal
    exception (life and body, a legal duty, child welfare, a public body's duty) what the
    recipient needs in order to act: contact, summary and risk. Without a basis, nothing.
    """
    if basis is None:
        return frozenset()
    if basis is LawfulBasis.CONSENT:
        if (
            consent is None
            or not consent.given
            or consent.recipient_kind is not RecipientKind.LOCAL_SUPPORT_ORG
        ):
            return frozenset()
        return consent.items
    return frozenset(ConsentItem)


class NoHandoff(StrEnum):
    """Why a recorded case opens no referral; the counsellor's console says it in plain words."""

    NOT_SERIOUS = "not_serious"  # S0/S1: listened to and informed, not handed on
    CONSENT_REFUSED = "consent_refused"  # the person said no, and no legal exception is recorded
    NO_LAWFUL_BASIS = "no_lawful_basis"  # neither consent nor an exception is recorded
    CONSENT_REQUIRED = "consent_required"  # S2 under a legal exception: S2 is shared only with consent


@dataclass(frozen=True)
class HandoffDecision:
    reason: NoHandoff | None = None  # None: a referral opens

    @property
    def opens(self) -> bool:
        return self.reason is None


def handoff_decision(
    severity: Severity, basis: LawfulBasis | None, consent: ConsentDecision | None
) -> HandoffDecision:
    """Whether the referral service opens a handoff for the case, and if not, why.

    The same rule as referral's `should_open_referral`, which sees only the level and the basis:
    S3/S4 with any basis, S2 only with consent. The person's consent decision never changes
    whether one opens (its effect is already in the basis); it only names the reason when none
    does, because a refusal is what the counsellor should be reminded of, not a missing field.
    """
    if severity in (Severity.S0, Severity.S1):
        return HandoffDecision(NoHandoff.NOT_SERIOUS)
    if basis is None:
        refused = consent is ConsentDecision.REFUSED
        return HandoffDecision(NoHandoff.CONSENT_REFUSED if refused else NoHandoff.NO_LAWFUL_BASIS)
    if severity is Severity.S2 and basis is not LawfulBasis.CONSENT:
        return HandoffDecision(NoHandoff.CONSENT_REQUIRED)
    return HandoffDecision()


def opens_handoff(severity: Severity, basis: LawfulBasis | None) -> bool:
    """Whether a handoff follows the case: intake uses it to know which cases need follow-up
    before they can be closed."""
    return handoff_decision(severity, basis, consent=None).opens


# ---- how a case came in ---------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """Which call leg (and the menu version and digit that routed it) or chat brought the case."""

    call_leg_id: uuid.UUID | None = None
    chat_id: uuid.UUID | None = None
    menu_id: uuid.UUID | None = None
    menu_digit: str | None = None


# ---- consultations --------------------------------------------------------------------------


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
    rule_version: str = rules.COUNSELLOR_ONLY
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


# ---- validation of a case as a whole --------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    field: str  # a path in the request body, e.g. body.risk.cssrs.q1_wish_to_be_dead
    reason: str


class CaseInvalid(Exception):
    """Everything wrong with a case at once, so a counsellor fixes it in one go."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class CaseInput:
    """What the rules need to judge a case, new or changed."""

    channel: Channel
    topic: Topic
    need_tags: tuple[IssueTag, ...]
    age_band: AgeBand
    risk: RiskAssessment | None
    requested_severity: Severity | None
    severity_reason: str | None
    emergency_call: EmergencyCall | None
    lawful_basis: LawfulBasis | None
    consent: ConsentInput | None
    # On an update: what was in force before, so that nothing is lowered silently.
    previous_severity: Severity | None = None
    consent_in_force: Consent | None = None


@dataclass(frozen=True)
class CaseDecision:
    severity: SeverityDecision
    lawful_basis: LawfulBasis | None


def judge(case: CaseInput) -> CaseDecision:
    """The severity and the lawful basis of a case, or every reason it cannot be recorded.

    Without a risk assessment the counsellor's posted severity stands (rule version
    'counsellor-only'), as before structured assessments existed. With one, the rules compute the
    level and the stricter checks apply: the screener when suicide is involved, a 110/119 record
    and a basis for an emergency, a basis for a serious case unless the person refused, and a
    consent record behind CONSENT.
    """
    problems: list[Problem] = []
    tags = frozenset(case.need_tags)
    assessment: Assessment | None = None
    if case.risk is None:
        if rules.cssrs_is_mandatory(case.topic, tags):
            problems.append(
                Problem(
                    "body.risk.cssrs",
                    "required: the topic or tags involve suicide, so C-SSRS Q1–Q6 must be asked",
                )
            )
        if case.requested_severity is None and case.previous_severity is None:
            problems.append(Problem("body.severity", "required when no risk assessment is given"))
    else:
        facts = CaseFacts(case.risk, case.topic, tags, case.age_band)
        problems += [
            Problem(
                f"body.{path}",
                "required: the topic or tags involve suicide (C-SSRS screener, past month)",
            )
            for path in rules.missing_mandatory_answers(facts)
        ]
        assessment = rules.CURRENT.evaluate(facts)

    basis = case.lawful_basis
    consent = case.consent
    if consent is not None:
        if consent.text_version not in CONSENT_TEXTS:
            known = ", ".join(sorted(CONSENT_TEXTS))
            problems.append(Problem("body.consent.text_version", f"unknown consent text; one of {known}"))
        if consent.method is ConsentMethod.CHAT_CLICK and case.channel is not Channel.CHAT:
            problems.append(Problem("body.consent.method", "chat_click is only possible in a chat"))
        if consent.decision is ConsentDecision.GIVEN:
            if not consent.items:
                problems.append(Problem("body.consent.items", "name at least one item consented to"))
            basis = basis or LawfulBasis.CONSENT
        elif basis is LawfulBasis.CONSENT:
            problems.append(Problem("body.lawful_basis", "CONSENT contradicts the recorded refusal"))

    requested = case.requested_severity
    if requested is None and case.previous_severity is not None:
        # On an update that names no level, new answers may raise it; lowering stays an explicit,
        # reasoned decision, so the level in force is the floor.
        requested = case.previous_severity
        if assessment is not None:
            requested = max(requested, assessment.level, key=rules.rank)
    decision: SeverityDecision | None = None
    if assessment is not None or requested is not None:
        try:
            decision = rules.decide(
                assessment=assessment,
                requested=requested,
                reason=case.severity_reason,
                previous=case.previous_severity,
            )
        except LoweringNeedsReason as error:
            problems.append(
                Problem(
                    "body.severity_reason",
                    f"{error.requested} is below {error.floor}: lowering a severity needs a reason",
                )
            )

    if case.risk is not None and decision is not None:
        problems += _referral_checks(case, decision.final, basis)

    if problems or decision is None:
        raise CaseInvalid(problems)
    return CaseDecision(decision, basis)


def _referral_checks(case: CaseInput, final: Severity, basis: LawfulBasis | None) -> list[Problem]:
    problems: list[Problem] = []
    consent = case.consent or case.consent_in_force
    refused = consent is not None and consent.decision is ConsentDecision.REFUSED
    if final is Severity.S4:
        if case.emergency_call is None:
            problems.append(
                Problem("body.emergency_call", "required for S4: record that 110/119 was called and when")
            )
        if basis is None:
            problems.append(
                Problem(
                    "body.lawful_basis",
                    "an emergency (S4) always opens an urgent handoff: record the basis "
                    "(VITAL_INTEREST_27_1_2 when consent cannot be obtained)",
                )
            )
    elif final is Severity.S3 and basis is None and not refused:
        problems.append(
            Problem(
                "body.lawful_basis",
                "a serious case (S3) opens a handoff: record consent or a legal basis, "
                "or the person's refusal in body.consent",
            )
        )
    if basis is LawfulBasis.CONSENT and consent is None:
        problems.append(
            Problem("body.consent", "CONSENT needs its record: items, recipient kind, method, text version")
        )
    return problems


def closing_after_recording(severity: Severity, basis: LawfulBasis | None) -> str | None:
    """A case no handoff follows is closed once recorded; the others close with their handoff."""
    return None if opens_handoff(severity, basis) else "no_handoff"


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


def changed_fields(before: Consultation, after: Consultation, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if getattr(before, name) != getattr(after, name)]
