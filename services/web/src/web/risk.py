"""The structured risk assessment as the console collects it, and a preview of its severity.

The field names are those of intake's risk assessment, so the answers go to intake unchanged.
The preview mirrors intake's published rule table (version below) for the console's live
display only when intake offers no endpoint that computes it; intake's own rules always decide
what is stored, and the preview says which rule version it follows.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.vocabulary import Severity

MIRRORED_RULES = "2026-11-v1"
RULE_VERSION = f"preview:{MIRRORED_RULES}"

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

SOCIAL_NEEDS = frozenset({"MON", "FOOD", "HOU", "WRK", "LEG", "ELD", "HLT", "CHILD", "DV"})
MINOR_BANDS = frozenset({"0-11", "12-17"})
ORDER = (Severity.S0, Severity.S1, Severity.S2, Severity.S3, Severity.S4)


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
        need_tags=frozenset(need_tags),
        age_band=str(form.get("age_band", "unknown")),
        cssrs={q: _answer(form.get(q)) for q in CSSRS},
        flags=frozenset(f for f in FLAGS if _answer(form.get(f))),
        tristate={name: _answer(form.get(name)) for name in TRISTATE},
        protective_factors=tuple(p for p in (protective or []) if p in PROTECTIVE_FACTORS),
    )


@dataclass(frozen=True)
class Preview:
    severity: Severity
    reasons: tuple[str, ...]
    missing: tuple[str, ...]
    rule_version: str = RULE_VERSION


def _high(c: Mapping[str, bool | None]) -> bool:
    recent = c.get("q6_behaviour") is True and c.get("q6_within_3_months") is not False
    return c.get("q4_intent") is True or c.get("q5_plan") is True or recent


def _moderate(c: Mapping[str, bool | None]) -> bool:
    return c.get("q3_method") is True or (
        c.get("q6_behaviour") is True and c.get("q6_within_3_months") is False
    )


def _ideation(c: Mapping[str, bool | None]) -> bool:
    return c.get("q1_wish_to_be_dead") is True or c.get("q2_suicidal_thoughts") is True


def missing_answers(a: Answers) -> tuple[str, ...]:
    """The screener's mandatory answers, following its own skip rule."""
    if not a.suicide_involved:
        return ()
    wanted = ["q1_wish_to_be_dead", "q2_suicidal_thoughts"]
    if a.cssrs.get("q2_suicidal_thoughts") is True:
        wanted += list(AFTER_Q2)
    wanted.append("q6_behaviour")
    if a.cssrs.get("q6_behaviour") is True:
        wanted.append("q6_within_3_months")
    return tuple(q for q in wanted if a.cssrs.get(q) is None)


def preview(a: Answers) -> Preview:
    c, f = a.cssrs, a.flags
    referral = [
        ("S2.cssrs_moderate", _moderate(c)),
        ("S2.ideation_with_social_need", _ideation(c) and bool(a.need_tags & SOCIAL_NEEDS)),
        ("S2.no_money_or_food", "no_money_or_food" in f),
        ("S2.eviction_or_cutoff", "eviction_or_cutoff_7_days" in f),
        ("S2.long_term_hikikomori", "long_term_hikikomori" in f),
        ("S2.wants_follow_up", "wants_follow_up" in f),
    ]
    minor = a.age_band in MINOR_BANDS or a.topic == "UNDER18"
    criteria = [
        ("S4.attempt_in_progress", "attempt_in_progress" in f),
        (
            "S4.means_and_cannot_stay_safe",
            "access_to_means" in f and a.tristate.get("can_agree_to_stay_safe") is False,
        ),
        ("S4.violence_now", "violence_now" in f),
        ("S4.medical_emergency", "medical_emergency" in f),
        ("S4.child_in_immediate_danger", "child_in_immediate_danger" in f),
        ("S3.cssrs_high", _high(c)),
        ("S3.no_safe_place_tonight", a.tristate.get("safe_place_tonight") is False),
        ("S3.abuse_needs_shelter", "abuse_needs_shelter" in f),
        ("S3.suspected_child_abuse", "suspected_child_abuse" in f),
        ("S3.minor_at_risk", minor and any(hit for _, hit in referral)),
        ("S3.urgent_in_person_help", "urgent_in_person_help" in f),
        *referral,
        ("S1.cssrs_low", _ideation(c)),
        ("S1.distress", "distress" in f),
        ("S1.needs_information", bool(a.need_tags)),
    ]
    matched = tuple(code for code, hit in criteria if hit)
    level = max((Severity(code[:2]) for code in matched), key=ORDER.index, default=Severity.S0)
    return Preview(severity=level, reasons=matched, missing=missing_answers(a))


def is_lowering(computed: Severity, chosen: Severity) -> bool:
    return ORDER.index(chosen) < ORDER.index(computed)
