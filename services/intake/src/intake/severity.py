"""The S0–S4 scale (domain brief §4) as versioned, pure rule tables: answers in, level and reasons out.

A rule table never changes once published: a new reading of the scale is a new version beside the
old one, so that every stored decision can be re-derived from its stored answers and version.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.vocabulary import AgeBand, IssueTag, Severity, Topic

RULES_V1 = "2026-11-v1"
COUNSELLOR_ONLY = "counsellor-only"  # no assessment: the counsellor's posted level stands alone

_ORDER = (Severity.S0, Severity.S1, Severity.S2, Severity.S3, Severity.S4)


def rank(severity: Severity) -> int:
    return _ORDER.index(severity)


class Cssrs(BaseModel):
    """C-SSRS screener, past month. Q3–Q5 are skipped when Q2 is 'no' (the screener's own rule)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q1_wish_to_be_dead: bool | None = Field(default=None, description="Q1 死んでしまいたいと思ったか")
    q2_suicidal_thoughts: bool | None = Field(default=None, description="Q2 実際に自殺を考えたか")
    q3_method: bool | None = Field(default=None, description="Q3 方法を考えたか")
    q4_intent: bool | None = Field(default=None, description="Q4 実行するつもりがあったか")
    q5_plan: bool | None = Field(default=None, description="Q5 計画を立て、実行するつもりか")
    q6_behaviour: bool | None = Field(default=None, description="Q6 準備や企図をしたことがあるか")
    q6_within_3_months: bool | None = Field(default=None, description="Q6 それは3か月以内か")


class ProtectiveFactor(StrEnum):
    FAMILY = "family"
    FRIENDS = "friends"
    PET = "pet"
    TREATMENT = "treatment"
    FUTURE_PLANS = "future_plans"
    FAITH = "faith"
    OTHER = "other"


class RiskAssessment(BaseModel):
    """The counsellor's structured answers. Codes and booleans only: never free text.

    It is both the API's body and the rules' input, so that what a counsellor sent is exactly
    what the decision is explained from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cssrs: Cssrs | None = None
    # Immediacy (S4)
    attempt_in_progress: bool = Field(default=False, description="Attempt in progress or just taken")
    access_to_means: bool = Field(default=False, description="Has the means at hand")
    can_agree_to_stay_safe: bool | None = Field(default=None, description="Can agree to stay safe")
    violence_now: bool = Field(default=False, description="Violence happening now or imminent")
    medical_emergency: bool = False
    child_in_immediate_danger: bool = False
    # Serious (S3)
    safe_place_tonight: bool | None = Field(default=None, description="Has a safe place tonight (N2)")
    abuse_needs_shelter: bool = Field(default=False, description="DV or abuse needing shelter")
    suspected_child_abuse: bool = Field(default=False, description="189 report is mandatory")
    urgent_in_person_help: bool = Field(default=False, description="Asks for urgent in-person help")
    # Referral (S2)
    no_money_or_food: bool = Field(default=False, description="No money/food for the next days (N1)")
    eviction_or_cutoff_7_days: bool = Field(default=False, description="Eviction or cut-off ≤ 7 days")
    long_term_hikikomori: bool = False
    wants_follow_up: bool = False
    # Signpost (S1)
    distress: bool = Field(default=False, description="Loneliness or distress, no acute need")
    protective_factors: tuple[ProtectiveFactor, ...] = ()


class EmergencyService(StrEnum):
    POLICE = "110"
    AMBULANCE_FIRE = "119"


class EmergencyCaller(StrEnum):
    COUNSELLOR = "counsellor"
    PERSON = "person"  # the counsellor helped the person to call
    OTHER = "other"


class EmergencyCall(BaseModel):
    """S4: that 110/119 was called, by whom and when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: EmergencyService
    called_by: EmergencyCaller = EmergencyCaller.COUNSELLOR
    called_at: AwareDatetime


@dataclass(frozen=True)
class CaseFacts:
    """What the rules read: the answers and the codes of the case around them."""

    risk: RiskAssessment
    topic: Topic
    need_tags: frozenset[IssueTag]
    age_band: AgeBand


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
    table = RULE_TABLES[rule_version]
    again = table.evaluate(facts)
    reproduced = again.level == stored_level and again.flags == stored_flags
    return Explanation(rule_version, again.level, tuple(table.criterion(c) for c in again.flags), reproduced)
