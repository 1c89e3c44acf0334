"""The structured risk assessment as the console collects it, and intake's computed severity.

The field names are those of intake's risk assessment, so the answers go to intake unchanged.
The console holds no rule table: the level, its reasons and the missing C-SSRS answers always
come from intake (POST /v1/severity/compute); when intake cannot answer, the console says the
severity is unavailable.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.vocabulary import AgeBand, IssueTag, Severity, Topic

CSSRS = (
    "q1_wish_to_be_dead",
    "q2_suicidal_thoughts",
    "q3_method",
    "q4_intent",
    "q5_plan",
    "q6_behaviour",
    "q6_within_3_months",
)
# Questions shown only once the screener's skip rule lets them be asked.
AFTER_Q2 = ("q3_method", "q4_intent", "q5_plan")

S4_FLAGS = (
    "attempt_in_progress",
    "access_to_means",
    "violence_now",
    "medical_emergency",
    "child_in_immediate_danger",
)
S3_FLAGS = ("abuse_needs_shelter", "suspected_child_abuse", "urgent_in_person_help")
S2_FLAGS = ("no_money_or_food", "eviction_or_cutoff_7_days", "long_term_hikikomori", "wants_follow_up")
S1_FLAGS = ("distress",)
FLAGS = S4_FLAGS + S3_FLAGS + S2_FLAGS + S1_FLAGS
# Questions whose "unknown" differs from "no".
TRISTATE = ("can_agree_to_stay_safe", "safe_place_tonight")
PROTECTIVE_FACTORS = ("family", "friends", "pet", "treatment", "future_plans", "faith", "other")


def _answer(value: Any) -> bool | None:
    if value in (True, "yes", "true", "on"):
        return True
    if value in (False, "no", "false"):
        return False
    return None


@dataclass(frozen=True)
class Answers:
    topic: str
    need_tags: frozenset[str]
    age_band: str
    cssrs: Mapping[str, bool | None]
    flags: frozenset[str]
    tristate: Mapping[str, bool | None]
    protective_factors: tuple[str, ...] = ()

    @property
    def suicide_involved(self) -> bool:
        return self.topic == "SUICIDAL" or "SUI" in self.need_tags

    def risk_body(self) -> dict[str, Any]:
        """intake's `risk` object: codes and booleans only."""
        body: dict[str, Any] = {flag: flag in self.flags for flag in FLAGS}
        body.update({name: value for name, value in self.tristate.items()})
        body["protective_factors"] = list(self.protective_factors)
        if any(v is not None for v in self.cssrs.values()):
            body["cssrs"] = {q: self.cssrs.get(q) for q in CSSRS}
        return body


def answers_of(form: Mapping[str, Any], need_tags: list[str], protective: list[str] | None = None) -> Answers:
    return Answers(
        topic=str(form.get("topic", "")),
        need_tags=frozenset(t for t in need_tags if t in {i.value for i in IssueTag}),
        age_band=str(form.get("age_band", "unknown")),
        cssrs={q: _answer(form.get(q)) for q in CSSRS},
        flags=frozenset(f for f in FLAGS if _answer(form.get(f))),
        tristate={name: _answer(form.get(name)) for name in TRISTATE},
        protective_factors=tuple(p for p in (protective or []) if p in PROTECTIVE_FACTORS),
    )


@dataclass(frozen=True)
class Computed:
    """intake's answer to POST /v1/severity/compute: the console never computes a level itself."""

    severity: Severity
    reasons: tuple[str, ...]
    missing: tuple[str, ...]
    rule_version: str

    @classmethod
    def of(cls, body: Any) -> "Computed":
        if not isinstance(body, dict):
            raise ValueError("intake's severity answer is not an object")
        return cls(
            severity=Severity(body["severity"]),
            reasons=tuple(str(r) for r in body.get("reasons", [])),
            missing=tuple(str(m) for m in body.get("missing", [])),
            rule_version=str(body.get("rule_version", "")),
        )


def compute_request(a: Answers) -> dict[str, Any] | None:
    """The body of intake's severity dry run; None while the topic is not chosen yet."""
    if a.topic not in {t.value for t in Topic}:
        return None
    return {
        "topic": a.topic,
        "need_tags": sorted(a.need_tags),
        "age_band": a.age_band if a.age_band in {b.value for b in AgeBand} else AgeBand.UNKNOWN.value,
        "risk": a.risk_body(),
    }


_ORDER = tuple(Severity)


def is_lowering(computed: Severity, chosen: Severity) -> bool:
    """Only the scale's order, not a rule: the chosen level is below intake's computed one."""
    return _ORDER.index(chosen) < _ORDER.index(computed)


@dataclass(frozen=True)
class Finding:
    """One released risk finding as the partner reads it: a question or flag (catalogue key) and,
    for a question, its answer ("yes"/"no"); a flag that is set has no answer."""

    key: str
    answer: str | None = None


def findings(assessment: Mapping[str, Any] | None) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """The findings intake released (only when consent or the legal basis covers them): the C-SSRS
    answers given, the flags that are set and the known answers to the yes/no questions, most
    urgent first; and the protective factors. Codes in, catalogue keys out — never free text."""
    if not assessment:
        return (), ()
    found: list[Finding] = [Finding(f"risk.flag.{f}") for f in FLAGS if assessment.get(f) is True]
    for name in TRISTATE:
        if isinstance(assessment.get(name), bool):
            found.append(Finding(f"risk.flag.{name}", "yes" if assessment[name] else "no"))
    screener = assessment.get("cssrs") or {}
    for q in CSSRS:
        if isinstance(screener.get(q), bool):
            found.append(Finding(f"cssrs.{q}", "yes" if screener[q] else "no"))
    protective = tuple(
        f"protective.{p}" for p in assessment.get("protective_factors") or () if p in PROTECTIVE_FACTORS
    )
    return tuple(found), protective
