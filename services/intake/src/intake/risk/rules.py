"""The S0–S4 scale (domain brief §4) as versioned, pure rule tables: answers in, level and reasons out.

A rule table never changes once published: a new reading of the scale is a new version beside the
old one, so that every stored decision can be re-derived from its stored answers and version.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from contracts.vocabulary import AgeBand, IssueTag, Severity, Topic
from intake.risk.answers import CaseFacts, Cssrs

RULES_V1 = "2026-11-v1"

_ORDER = (Severity.S0, Severity.S1, Severity.S2, Severity.S3, Severity.S4)


def rank(severity: Severity) -> int:
    return _ORDER.index(severity)


def _cssrs(facts: CaseFacts) -> Cssrs:
    return facts.risk.cssrs or Cssrs()


def _yes(answer: bool | None) -> bool:
    return answer is True


def cssrs_high(c: Cssrs) -> bool:
    # Behaviour whose date is unknown counts as recent: the cautious reading.
    recent_behaviour = _yes(c.q6_behaviour) and c.q6_within_3_months is not False
    return _yes(c.q4_intent) or _yes(c.q5_plan) or recent_behaviour


def cssrs_moderate(c: Cssrs) -> bool:
    return _yes(c.q3_method) or (_yes(c.q6_behaviour) and c.q6_within_3_months is False)


def cssrs_ideation(c: Cssrs) -> bool:
    return _yes(c.q1_wish_to_be_dead) or _yes(c.q2_suicidal_thoughts)


# Needs that turn ideation into a referral: something a local organisation can act on.
SOCIAL_NEEDS = frozenset(
    {
        IssueTag.MON,
        IssueTag.FOOD,
        IssueTag.HOU,
        IssueTag.WRK,
        IssueTag.LEG,
        IssueTag.ELD,
        IssueTag.HLT,
        IssueTag.CHILD,
        IssueTag.DV,
    }
)
_MINOR_BANDS = frozenset({AgeBand.UNDER_12, AgeBand.TEEN})


def is_minor(facts: CaseFacts) -> bool:
    return facts.age_band in _MINOR_BANDS or facts.topic is Topic.UNDER18


@dataclass(frozen=True)
class Criterion:
    code: str
    level: Severity
    text: str
    text_ja: str
    applies: Callable[[CaseFacts], bool]


def _referral_level_need(facts: CaseFacts) -> bool:
    return any(c.applies(facts) for c in _V1_REFERRAL)


_V1_REFERRAL: tuple[Criterion, ...] = (
    Criterion(
        "S2.cssrs_moderate",
        Severity.S2,
        "C-SSRS moderate: Q3, or preparatory/attempt behaviour more than 3 months ago",
        "C-SSRS中等度(方法の検討、または3か月より前の準備・企図)",
        lambda f: cssrs_moderate(_cssrs(f)),
    ),
    Criterion(
        "S2.ideation_with_social_need",
        Severity.S2,
        "Q1/Q2 plus a social need (money, food, housing, work, legal, care, health, child, DV)",
        "希死念慮(Q1/Q2)と生活上の困りごと",
        lambda f: cssrs_ideation(_cssrs(f)) and bool(f.need_tags & SOCIAL_NEEDS),
    ),
    Criterion(
        "S2.no_money_or_food",
        Severity.S2,
        "No money or food for the next few days (N1)",
        "数日内のお金・食料がない(N1)",
        lambda f: f.risk.no_money_or_food,
    ),
    Criterion(
        "S2.eviction_or_cutoff",
        Severity.S2,
        "Eviction or utility cut-off within 7 days",
        "7日以内の退去・ライフライン停止",
        lambda f: f.risk.eviction_or_cutoff_7_days,
    ),
    Criterion(
        "S2.long_term_hikikomori",
        Severity.S2,
        "Long-term hikikomori",
        "長期のひきこもり",
        lambda f: f.risk.long_term_hikikomori,
    ),
    Criterion(
        "S2.wants_follow_up",
        Severity.S2,
        "The person wants follow-up",
        "本人がつなぎ・継続支援を希望",
        lambda f: f.risk.wants_follow_up,
    ),
)

_V1: tuple[Criterion, ...] = (
    Criterion(
        "S4.attempt_in_progress",
        Severity.S4,
        "Attempt in progress or just taken (e.g. overdose)",
        "自殺企図が進行中または直後(過量服薬など)",
        lambda f: f.risk.attempt_in_progress,
    ),
    Criterion(
        "S4.means_and_cannot_stay_safe",
        Severity.S4,
        "Means in hand and cannot agree to stay safe",
        "手段が手元にあり、安全を約束できない",
        lambda f: f.risk.access_to_means and f.risk.can_agree_to_stay_safe is False,
    ),
    Criterion(
        "S4.violence_now",
        Severity.S4,
        "Violence happening now or imminent",
        "暴力が現在進行中または差し迫っている",
        lambda f: f.risk.violence_now,
    ),
    Criterion(
        "S4.medical_emergency",
        Severity.S4,
        "Medical emergency",
        "医療的な緊急事態",
        lambda f: f.risk.medical_emergency,
    ),
    Criterion(
        "S4.child_in_immediate_danger",
        Severity.S4,
        "A child in immediate danger",
        "子どもに差し迫った危険",
        lambda f: f.risk.child_in_immediate_danger,
    ),
    Criterion(
        "S3.cssrs_high",
        Severity.S3,
        "C-SSRS high: Q4 or Q5 in the past month, or behaviour within 3 months (no imminence)",
        "C-SSRS高リスク(Q4/Q5、または3か月以内の準備・企図)",
        lambda f: cssrs_high(_cssrs(f)),
    ),
    Criterion(
        "S3.no_safe_place_tonight",
        Severity.S3,
        "No safe place tonight (N2)",
        "今夜安全に過ごせる場所がない(N2)",
        lambda f: f.risk.safe_place_tonight is False,
    ),
    Criterion(
        "S3.abuse_needs_shelter",
        Severity.S3,
        "DV or abuse needing shelter",
        "DV・虐待で保護が必要",
        lambda f: f.risk.abuse_needs_shelter,
    ),
    Criterion(
        "S3.suspected_child_abuse",
        Severity.S3,
        "Suspected child abuse (a 189 report is mandatory)",
        "児童虐待の疑い(189通告義務)",
        lambda f: f.risk.suspected_child_abuse,
    ),
    Criterion(
        "S3.minor_at_risk",
        Severity.S3,
        "Under 18 with any referral-level risk",
        "18歳未満で、つなぎが必要な水準のリスク",
        lambda f: is_minor(f) and _referral_level_need(f),
    ),
    Criterion(
        "S3.urgent_in_person_help",
        Severity.S3,
        "The person asks for urgent in-person help",
        "本人が緊急の対面支援を希望",
        lambda f: f.risk.urgent_in_person_help,
    ),
    *_V1_REFERRAL,
    Criterion(
        "S1.cssrs_low",
        Severity.S1,
        "C-SSRS low: Q1/Q2 only",
        "C-SSRS低リスク(Q1/Q2のみ)",
        lambda f: cssrs_ideation(_cssrs(f)),
    ),
    Criterion(
        "S1.distress",
        Severity.S1,
        "Loneliness or distress with no acute need",
        "孤独・つらさ(差し迫った必要はない)",
        lambda f: f.risk.distress,
    ),
    Criterion(
        "S1.needs_information",
        Severity.S1,
        "A need on which support schemes can be explained",
        "支援制度の情報提供が役立つ困りごと",
        lambda f: bool(f.need_tags),
    ),
)


@dataclass(frozen=True)
class Assessment:
    """What a rule table computed: the level and every criterion that applied."""

    rule_version: str
    level: Severity
    flags: tuple[str, ...]


@dataclass(frozen=True)
class RuleTable:
    version: str
    criteria: tuple[Criterion, ...]

    def evaluate(self, facts: CaseFacts) -> Assessment:
        matched = [c for c in self.criteria if c.applies(facts)]
        level = max((c.level for c in matched), key=rank, default=Severity.S0)
        return Assessment(self.version, level, tuple(c.code for c in matched))

    def criterion(self, code: str) -> Criterion:
        for c in self.criteria:
            if c.code == code:
                return c
        raise KeyError(code)


RULE_TABLES: Mapping[str, RuleTable] = {RULES_V1: RuleTable(RULES_V1, _V1)}
CURRENT = RULE_TABLES[RULES_V1]


def cssrs_is_mandatory(topic: Topic, need_tags: frozenset[IssueTag]) -> bool:
    """'Ask': whenever the case is about suicide, the screener must be answered."""
    return topic is Topic.SUICIDAL or IssueTag.SUI in need_tags


def missing_mandatory_answers(facts: CaseFacts) -> list[str]:
    """Field paths of the C-SSRS answers the case still needs, following the screener's skips."""
    if not cssrs_is_mandatory(facts.topic, facts.need_tags):
        return []
    c = facts.risk.cssrs
    if c is None:
        return ["risk.cssrs"]
    return [f"risk.cssrs.{name}" for name in _wanted_questions(c) if getattr(c, name) is None]


def _wanted_questions(c: Cssrs) -> list[str]:
    """The screener's questions to ask, following its skips: Q3–Q5 after a 'yes' to Q2, and so on."""
    wanted = ["q1_wish_to_be_dead", "q2_suicidal_thoughts"]
    if c.q2_suicidal_thoughts is True:
        wanted += ["q3_method", "q4_intent", "q5_plan"]
    wanted.append("q6_behaviour")
    if c.q6_behaviour is True:
        wanted.append("q6_within_3_months")
    return wanted


def mandatory_questions(facts: CaseFacts) -> list[str]:
    """The C-SSRS questions (by name) the case must answer now; none when suicide is not involved."""
    if not cssrs_is_mandatory(facts.topic, facts.need_tags):
        return []
    return _wanted_questions(_cssrs(facts))


def missing_questions(facts: CaseFacts) -> list[str]:
    """The mandatory C-SSRS questions (by name) still unanswered."""
    c = _cssrs(facts)
    return [name for name in mandatory_questions(facts) if getattr(c, name) is None]
