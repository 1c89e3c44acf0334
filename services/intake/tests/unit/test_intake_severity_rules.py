"""The S0–S4 rule table, criterion by criterion and at every boundary; raising and lowering."""

from typing import Any

import pytest

from contracts.vocabulary import AgeBand, IssueTag, Severity, Topic
from intake.risk import rules
from intake.risk.answers import CaseFacts, Cssrs, ProtectiveFactor, RiskAssessment
from intake.risk.domain import COUNSELLOR_ONLY, Direction, LoweringNeedsReason, decide, explain
from intake.risk.rules import RULES_V1, missing_mandatory_answers


def facts(
    *,
    cssrs: dict[str, Any] | None = None,
    topic: Topic = Topic.LONELY,
    tags: tuple[IssueTag, ...] = (),
    age: AgeBand = AgeBand.ADULT,
    **answers: Any,
) -> CaseFacts:
    risk = RiskAssessment(cssrs=Cssrs(**cssrs) if cssrs is not None else None, **answers)
    return CaseFacts(risk, topic, frozenset(tags), age)


# One case per criterion of RULES_V1: the answers that trigger it and the level it sets.
CRITERIA: list[tuple[str, Severity, CaseFacts]] = [
    ("S4.attempt_in_progress", Severity.S4, facts(attempt_in_progress=True)),
    (
        "S4.means_and_cannot_stay_safe",
        Severity.S4,
        facts(access_to_means=True, can_agree_to_stay_safe=False),
    ),
    ("S4.violence_now", Severity.S4, facts(violence_now=True)),
    ("S4.medical_emergency", Severity.S4, facts(medical_emergency=True)),
    ("S4.child_in_immediate_danger", Severity.S4, facts(child_in_immediate_danger=True)),
    ("S3.cssrs_high", Severity.S3, facts(cssrs={"q4_intent": True})),
    ("S3.no_safe_place_tonight", Severity.S3, facts(safe_place_tonight=False)),
    ("S3.abuse_needs_shelter", Severity.S3, facts(abuse_needs_shelter=True)),
    ("S3.suspected_child_abuse", Severity.S3, facts(suspected_child_abuse=True)),
    ("S3.minor_at_risk", Severity.S3, facts(age=AgeBand.TEEN, wants_follow_up=True)),
    ("S3.urgent_in_person_help", Severity.S3, facts(urgent_in_person_help=True)),
    ("S2.cssrs_moderate", Severity.S2, facts(cssrs={"q3_method": True})),
    (
        "S2.ideation_with_social_need",
        Severity.S2,
        facts(cssrs={"q1_wish_to_be_dead": True}, tags=(IssueTag.MON,)),
    ),
    ("S2.no_money_or_food", Severity.S2, facts(no_money_or_food=True)),
    ("S2.eviction_or_cutoff", Severity.S2, facts(eviction_or_cutoff_7_days=True)),
    ("S2.long_term_hikikomori", Severity.S2, facts(long_term_hikikomori=True)),
    ("S2.wants_follow_up", Severity.S2, facts(wants_follow_up=True)),
    ("S1.cssrs_low", Severity.S1, facts(cssrs={"q1_wish_to_be_dead": True})),
    ("S1.distress", Severity.S1, facts(distress=True)),
    ("S1.needs_information", Severity.S1, facts(tags=(IssueTag.ISO,))),
]


def test_every_criterion_of_the_table_has_a_case_here() -> None:
    assert {code for code, _, _ in CRITERIA} == {c.code for c in rules.RULE_TABLES[RULES_V1].criteria}


@pytest.mark.parametrize(("code", "level", "case"), CRITERIA, ids=[c for c, _, _ in CRITERIA])
def test_each_criterion_sets_its_level_and_names_itself(code: str, level: Severity, case: CaseFacts) -> None:
    assessment = rules.CURRENT.evaluate(case)
    assert assessment.level is level
    assert code in assessment.flags
    assert assessment.rule_version == RULES_V1


def test_no_answer_set_is_s0_with_no_flags() -> None:
    assessment = rules.CURRENT.evaluate(facts())
    assert (assessment.level, assessment.flags) == (Severity.S0, ())


def test_the_highest_criterion_wins_and_all_that_applied_are_kept() -> None:
    assessment = rules.CURRENT.evaluate(facts(violence_now=True, wants_follow_up=True, distress=True))
    assert assessment.level is Severity.S4
    assert assessment.flags == ("S4.violence_now", "S2.wants_follow_up", "S1.distress")


@pytest.mark.parametrize(
    ("answers", "level"),
    [
        # C-SSRS Q6: behaviour within 3 months is high, longer ago moderate, unknown counts as recent.
        ({"cssrs": {"q6_behaviour": True, "q6_within_3_months": True}}, Severity.S3),
        ({"cssrs": {"q6_behaviour": True, "q6_within_3_months": False}}, Severity.S2),
        ({"cssrs": {"q6_behaviour": True}}, Severity.S3),
        ({"cssrs": {"q6_behaviour": False, "q6_within_3_months": True}}, Severity.S0),
        # Q5 high, Q2 alone low, Q1/Q2 answered 'no' nothing.
        ({"cssrs": {"q5_plan": True}}, Severity.S3),
        ({"cssrs": {"q2_suicidal_thoughts": True}}, Severity.S1),
        ({"cssrs": {"q1_wish_to_be_dead": False, "q2_suicidal_thoughts": False}}, Severity.S0),
        # Means at hand: S4 only when the person cannot agree to stay safe; unknown is not 'no'.
        ({"access_to_means": True}, Severity.S0),
        ({"access_to_means": True, "can_agree_to_stay_safe": True}, Severity.S0),
        ({"access_to_means": False, "can_agree_to_stay_safe": False}, Severity.S0),
        # A safe place tonight: only an explicit 'no' is N2.
        ({"safe_place_tonight": True}, Severity.S0),
        ({"safe_place_tonight": None}, Severity.S0),
        # Ideation with a need that is not social stays low.
        ({"cssrs": {"q1_wish_to_be_dead": True}, "tags": (IssueTag.REL,)}, Severity.S1),
        # A minor with only signpost-level answers stays at S1; topic UNDER18 also makes a minor.
        ({"age": AgeBand.TEEN, "distress": True}, Severity.S1),
        ({"topic": Topic.UNDER18, "no_money_or_food": True}, Severity.S3),
        ({"age": AgeBand.UNDER_12, "cssrs": {"q3_method": True}}, Severity.S3),
        ({"age": AgeBand.YOUNG_ADULT, "no_money_or_food": True}, Severity.S2),
    ],
)
def test_boundaries_of_the_scale(answers: dict[str, Any], level: Severity) -> None:
    assert rules.CURRENT.evaluate(facts(**answers)).level is level


def test_protective_factors_are_recorded_but_change_no_level() -> None:
    with_factors = facts(wants_follow_up=True, protective_factors=(ProtectiveFactor.FAMILY,))
    assert rules.CURRENT.evaluate(with_factors).level is Severity.S2


# ---- the C-SSRS screener is mandatory when suicide is involved ------------------------------


def test_the_screener_is_not_asked_for_when_suicide_is_not_involved() -> None:
    assert missing_mandatory_answers(facts()) == []


@pytest.mark.parametrize("case", [{"topic": Topic.SUICIDAL}, {"tags": (IssueTag.SUI,)}])
def test_without_the_screener_a_suicide_case_names_it(case: dict[str, Any]) -> None:
    assert missing_mandatory_answers(facts(**case)) == ["risk.cssrs"]


def test_a_no_to_q2_skips_q3_to_q5_but_q6_stays_mandatory() -> None:
    answered = facts(topic=Topic.SUICIDAL, cssrs={"q1_wish_to_be_dead": True, "q2_suicidal_thoughts": False})
    assert missing_mandatory_answers(answered) == ["risk.cssrs.q6_behaviour"]


def test_a_yes_to_q2_makes_q3_to_q5_mandatory_and_a_yes_to_q6_its_timing() -> None:
    answered = facts(
        tags=(IssueTag.SUI,),
        cssrs={
            "q1_wish_to_be_dead": True,
            "q2_suicidal_thoughts": True,
            "q4_intent": False,
            "q6_behaviour": True,
        },
    )
    assert missing_mandatory_answers(answered) == [
        "risk.cssrs.q3_method",
        "risk.cssrs.q5_plan",
        "risk.cssrs.q6_within_3_months",
    ]


def test_a_complete_screener_misses_nothing() -> None:
    complete = facts(
        topic=Topic.SUICIDAL,
        cssrs={
            "q1_wish_to_be_dead": True,
            "q2_suicidal_thoughts": True,
            "q3_method": False,
            "q4_intent": False,
            "q5_plan": False,
            "q6_behaviour": False,
        },
    )
    assert missing_mandatory_answers(complete) == []


# ---- raising and lowering -------------------------------------------------------------------


def _assessed(level: Severity) -> rules.Assessment:
    return rules.Assessment(RULES_V1, level, (f"{level}.x",))


def test_without_a_request_the_computed_level_stands() -> None:
    decision = decide(assessment=_assessed(Severity.S2), requested=None, reason=None)
    assert (decision.final, decision.direction, decision.computed) == (
        Severity.S2,
        Direction.AS_COMPUTED,
        Severity.S2,
    )


def test_a_counsellor_raises_freely() -> None:
    decision = decide(assessment=_assessed(Severity.S1), requested=Severity.S3, reason=None)
    assert (decision.final, decision.direction) == (Severity.S3, Direction.RAISED)


def test_lowering_below_the_computed_level_needs_a_reason() -> None:
    with pytest.raises(LoweringNeedsReason) as caught:
        decide(assessment=_assessed(Severity.S3), requested=Severity.S2, reason="  ")
    assert (caught.value.floor, caught.value.requested) == (Severity.S3, Severity.S2)
    decision = decide(assessment=_assessed(Severity.S3), requested=Severity.S2, reason="本人が支援者と同居中")
    assert (decision.final, decision.direction, decision.reason) == (
        Severity.S2,
        Direction.LOWERED,
        "本人が支援者と同居中",
    )


def test_on_an_update_lowering_below_the_level_in_force_needs_a_reason_too() -> None:
    with pytest.raises(LoweringNeedsReason):
        decide(assessment=_assessed(Severity.S1), requested=Severity.S2, reason=None, previous=Severity.S3)
    kept = decide(assessment=_assessed(Severity.S1), requested=Severity.S3, reason=None, previous=Severity.S3)
    assert kept.final is Severity.S3 and kept.previous is Severity.S3


def test_without_an_assessment_the_posted_level_is_recorded_as_counsellor_only() -> None:
    decision = decide(assessment=None, requested=Severity.S3, reason=None)
    assert (decision.rule_version, decision.direction, decision.computed) == (
        COUNSELLOR_ONLY,
        Direction.COUNSELLOR_ONLY,
        None,
    )
    with pytest.raises(LoweringNeedsReason):
        decide(assessment=None, requested=Severity.S1, reason=None, previous=Severity.S3)
    assert (
        decide(assessment=None, requested=Severity.S4, reason=None, previous=Severity.S3).direction
        is Direction.RAISED
    )


def test_a_stored_decision_is_explained_again_from_its_answers_and_version() -> None:
    case = facts(cssrs={"q4_intent": True}, wants_follow_up=True)
    stored = rules.CURRENT.evaluate(case)
    explanation = explain(RULES_V1, case, stored_level=stored.level, stored_flags=stored.flags)
    assert explanation.reproduced and explanation.level is Severity.S3
    assert [c.code for c in explanation.criteria] == ["S3.cssrs_high", "S2.wants_follow_up"]
    assert all(c.text and c.text_ja for c in explanation.criteria)
    tampered = explain(RULES_V1, case, stored_level=Severity.S1, stored_flags=stored.flags)
    assert not tampered.reproduced


def test_the_answers_reject_free_text_and_unknown_questions() -> None:
    with pytest.raises(ValueError):
        RiskAssessment.model_validate({"notes": "自由記述"})
    with pytest.raises(ValueError):
        RiskAssessment.model_validate({"cssrs": {"q7": True}})
