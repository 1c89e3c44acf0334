"""risk's use case without a case: the dry run that applies the current rules and stores nothing."""

from dataclasses import dataclass

from contracts.vocabulary import AgeBand, IssueTag, Severity, Topic
from intake.risk import rules
from intake.risk.answers import CaseFacts, RiskAssessment
from intake.risk.rules import Criterion


@dataclass(frozen=True)
class ComputedSeverity:
    """What the current rules make of a risk assessment; nothing is stored."""

    rule_version: str
    severity: Severity
    reasons: tuple[str, ...]  # the code of every criterion that applied
    criteria: tuple[Criterion, ...]  # the same criteria, with their wording
    suicide_involved: bool  # the C-SSRS screener is mandatory
    mandatory: tuple[str, ...]
    missing: tuple[str, ...]
    missing_fields: tuple[str, ...]


def compute_severity(
    *, topic: Topic, need_tags: frozenset[IssueTag], age_band: AgeBand, risk: RiskAssessment
) -> ComputedSeverity:
    """Pure: the current rule table applied to the answers, and the screener's mandatory questions."""
    facts = CaseFacts(risk=risk, topic=topic, need_tags=need_tags, age_band=age_band)
    table = rules.CURRENT
    assessment = table.evaluate(facts)
    return ComputedSeverity(
        rule_version=assessment.rule_version,
        severity=assessment.level,
        reasons=assessment.flags,
        criteria=tuple(table.criterion(code) for code in assessment.flags),
        suicide_involved=rules.cssrs_is_mandatory(topic, need_tags),
        mandatory=tuple(rules.mandatory_questions(facts)),
        missing=tuple(rules.missing_questions(facts)),
        missing_fields=tuple(rules.missing_mandatory_answers(facts)),
    )
