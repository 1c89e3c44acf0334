"""The severity and lawful basis of a case: decided from the rule tables and the counsellor's level,
checked as a whole, and explained again later from what was stored. Pure: no I/O."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.vocabulary import AgeBand, Channel, IssueTag, LawfulBasis, Severity, Topic
from eventkit.errors import ErrorDetail, Invalid
from intake.consent.domain import CONSENT_TEXTS, Consent, ConsentDecision, ConsentInput, ConsentMethod
from intake.risk import rules
from intake.risk.answers import CaseFacts, EmergencyCall, RiskAssessment
from intake.risk.rules import Assessment, Criterion, rank

COUNSELLOR_ONLY = "counsellor-only"  # no assessment: the counsellor's posted level stands alone


class Direction(StrEnum):
    AS_COMPUTED = "as_computed"
    RAISED = "raised"
    LOWERED = "lowered"
    COUNSELLOR_ONLY = "counsellor_only"
    KEPT = "kept"


@dataclass(frozen=True)
class SeverityDecision:
    rule_version: str
    computed: Severity | None
    flags: tuple[str, ...]
    previous: Severity | None
    final: Severity
    direction: Direction
    reason: str | None


class LoweringNeedsReason(ValueError):
    """A level below the computed (or the current) one without saying why."""

    def __init__(self, floor: Severity, requested: Severity) -> None:
        super().__init__(f"{requested} is below {floor}: lowering a severity needs a reason")
        self.floor = floor
        self.requested = requested


def decide(
    *,
    assessment: Assessment | None,
    requested: Severity | None,
    reason: str | None,
    previous: Severity | None = None,
) -> SeverityDecision:
    """The final level: the computed one, raised freely, or lowered only with a reason.

    Lowering is measured against the computed level and, on an update, against the level in force
    before it: a level is never lowered silently, whatever the cause.
    """
    reason = (reason or "").strip() or None
    if assessment is None:
        if requested is None:
            raise ValueError("without a risk assessment the counsellor's severity is required")
        if previous is not None and rank(requested) < rank(previous) and reason is None:
            raise LoweringNeedsReason(previous, requested)
        direction = Direction.COUNSELLOR_ONLY if previous is None else _direction(previous, requested)
        return SeverityDecision(COUNSELLOR_ONLY, None, (), previous, requested, direction, reason)
    final = requested or assessment.level
    floors = [assessment.level] + ([previous] if previous is not None else [])
    floor = max(floors, key=rank)
    if rank(final) < rank(floor) and reason is None:
        raise LoweringNeedsReason(floor, final)
    if rank(final) > rank(assessment.level):
        direction = Direction.RAISED
    elif rank(final) < rank(assessment.level) or (previous is not None and rank(final) < rank(previous)):
        direction = Direction.LOWERED
    else:
        direction = Direction.AS_COMPUTED
    return SeverityDecision(
        assessment.rule_version, assessment.level, assessment.flags, previous, final, direction, reason
    )


def _direction(previous: Severity, final: Severity) -> Direction:
    if rank(final) > rank(previous):
        return Direction.RAISED
    if rank(final) < rank(previous):
        return Direction.LOWERED
    return Direction.KEPT


# ---- stored decisions, explained again ------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    rule_version: str
    level: Severity
    criteria: tuple[Criterion, ...]
    reproduced: bool


def explain(
    rule_version: str, facts: CaseFacts, *, stored_level: Severity, stored_flags: tuple[str, ...]
) -> Explanation:
    """Re-run the stored answers through the stored rule version; say whether it agrees."""
    table = rules.RULE_TABLES[rule_version]
    again = table.evaluate(facts)
    reproduced = again.level == stored_level and again.flags == stored_flags
    return Explanation(rule_version, again.level, tuple(table.criterion(c) for c in again.flags), reproduced)


@dataclass(frozen=True)
class RecordedDecision:
    """A decision as stored (its reason opened), and once explained, what its rules say now."""

    rule_version: str
    answers: RiskAssessment | None
    computed: Severity | None
    flags: tuple[str, ...]
    previous: Severity | None
    final: Severity
    direction: str
    reason: str | None
    decided_by: str
    decided_at: datetime
    explanation: Explanation | None = None


# ---- a case judged as a whole ---------------------------------------------------------------


class CaseInvalid(Invalid):
    """Everything wrong with a case at once, so a counsellor fixes it in one go."""

    def __init__(self, problems: list[ErrorDetail]) -> None:
        super().__init__("The consultation is invalid.", details=problems)


def _problem(field: str, reason: str) -> ErrorDetail:
    # `field` is a path in the request body, e.g. body.risk.cssrs.q1_wish_to_be_dead
    return ErrorDetail(field=field, reason=reason)


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
    problems: list[ErrorDetail] = []
    tags = frozenset(case.need_tags)
    assessment: Assessment | None = None
    if case.risk is None:
        if rules.cssrs_is_mandatory(case.topic, tags):
            problems.append(
                _problem(
                    "body.risk.cssrs",
                    "required: the topic or tags involve suicide, so C-SSRS Q1–Q6 must be asked",
                )
            )
        if case.requested_severity is None and case.previous_severity is None:
            problems.append(_problem("body.severity", "required when no risk assessment is given"))
    else:
        facts = CaseFacts(case.risk, case.topic, tags, case.age_band)
        problems += [
            _problem(
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
            problems.append(_problem("body.consent.text_version", f"unknown consent text; one of {known}"))
        if consent.method is ConsentMethod.CHAT_CLICK and case.channel is not Channel.CHAT:
            problems.append(_problem("body.consent.method", "chat_click is only possible in a chat"))
        if consent.decision is ConsentDecision.GIVEN:
            if not consent.items:
                problems.append(_problem("body.consent.items", "name at least one item consented to"))
            basis = basis or LawfulBasis.CONSENT
        elif basis is LawfulBasis.CONSENT:
            problems.append(_problem("body.lawful_basis", "CONSENT contradicts the recorded refusal"))

    requested = case.requested_severity
    if requested is None and case.previous_severity is not None:
        # On an update that names no level, new answers may raise it; lowering stays an explicit,
        # reasoned decision, so the level in force is the floor.
        requested = case.previous_severity
        if assessment is not None:
            requested = max(requested, assessment.level, key=rank)
    decision: SeverityDecision | None = None
    if assessment is not None or requested is not None:
        try:
            decision = decide(
                assessment=assessment,
                requested=requested,
                reason=case.severity_reason,
                previous=case.previous_severity,
            )
        except LoweringNeedsReason as error:
            problems.append(
                _problem(
                    "body.severity_reason",
                    f"{error.requested} is below {error.floor}: lowering a severity needs a reason",
                )
            )

    if case.risk is not None and decision is not None:
        problems += _referral_checks(case, decision.final, basis)

    if problems or decision is None:
        raise CaseInvalid(problems)
    return CaseDecision(decision, basis)


def _referral_checks(case: CaseInput, final: Severity, basis: LawfulBasis | None) -> list[ErrorDetail]:
    problems: list[ErrorDetail] = []
    consent = case.consent or case.consent_in_force
    refused = consent is not None and consent.decision is ConsentDecision.REFUSED
    if final is Severity.S4:
        if case.emergency_call is None:
            problems.append(
                _problem("body.emergency_call", "required for S4: record that 110/119 was called and when")
            )
        if basis is None:
            problems.append(
                _problem(
                    "body.lawful_basis",
                    "an emergency (S4) always opens an urgent handoff: record the basis "
                    "(VITAL_INTEREST_27_1_2 when consent cannot be obtained)",
                )
            )
    elif final is Severity.S3 and basis is None and not refused:
        problems.append(
            _problem(
                "body.lawful_basis",
                "a serious case (S3) opens a handoff: record consent or a legal basis, "
                "or the person's refusal in body.consent",
            )
        )
    if basis is LawfulBasis.CONSENT and consent is None:
        problems.append(
            _problem("body.consent", "CONSENT needs its record: items, recipient kind, method, text version")
        )
    return problems
