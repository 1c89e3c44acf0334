"""Consultation rules, consent and lawful basis, and the announcement they make."""

import hashlib
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from intake.consent.domain import (
    CURRENT_CONSENT_TEXT,
    Consent,
    ConsentDecision,
    ConsentItem,
    ConsentMethod,
    RecipientKind,
    disclosable_items,
)
from intake.consultations.domain import Consultation, Contact, NewConsultation, request_fingerprint
from intake.consultations.handoff import opens_handoff
from intake.risk.answers import Cssrs, EmergencyCall, EmergencyService, RiskAssessment
from intake.risk.domain import COUNSELLOR_ONLY, CaseInput, CaseInvalid, judge
from intake.risk.rules import RULES_V1

from ..builders import CONSENT

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
NEW = NewConsultation(
    channel=Channel.CHAT,
    topic=Topic.WOMEN,
    municipality_code="271403",
    severity=Severity.S4,
    lawful_basis=LawfulBasis.VITAL_INTEREST_27_1_2,
    summary="本文",
    contact=Contact(phone="0312345678"),
)
FULL_CSSRS = Cssrs(
    q1_wish_to_be_dead=True,
    q2_suicidal_thoughts=True,
    q3_method=True,
    q4_intent=False,
    q5_plan=False,
    q6_behaviour=False,
)


def _consultation(basis: LawfulBasis | None) -> Consultation:
    return Consultation(
        id=uuid.uuid4(),
        channel=NEW.channel,
        topic=NEW.topic,
        municipality_code=NEW.municipality_code,
        severity=Severity.S4,
        lawful_basis=basis,
        summary=NEW.summary,
        contact=NEW.contact,
        recorded_by="c",
        recorded_at=datetime.now(UTC),
    )


def _case(**changes: Any) -> CaseInput:
    base = CaseInput(
        channel=Channel.PHONE,
        topic=Topic.LONELY,
        need_tags=(),
        age_band=AgeBand.ADULT,
        risk=None,
        requested_severity=Severity.S3,
        severity_reason=None,
        emergency_call=None,
        lawful_basis=LawfulBasis.CONSENT,
        consent=None,
    )
    return replace(base, **changes)


def _fields(case: CaseInput) -> list[str]:
    with pytest.raises(CaseInvalid) as caught:
        judge(case)
    return [p.field for p in caught.value.details]


def test_the_recorded_event_carries_codes_and_never_the_summary_or_contact() -> None:
    event = replace(
        _consultation(LawfulBasis.CONSENT),
        need_tags=(IssueTag.MON, IssueTag.FOOD),
        age_band=AgeBand.SENIOR,
        gender=Gender.FEMALE,
        language="pt",
    ).recorded_event()
    dumped = event.model_dump_json()
    assert "本文" not in dumped and "0312345678" not in dumped
    assert event.severity is Severity.S4 and event.municipality_code == "271403"
    assert event.need_tags == (IssueTag.MON, IssueTag.FOOD)
    assert (event.age_band, event.gender, event.language) == (AgeBand.SENIOR, Gender.FEMALE, "pt")


def test_a_consultation_without_lawful_basis_may_not_be_shared() -> None:
    assert not _consultation(None).may_be_shared
    assert _consultation(LawfulBasis.LAW_27_1_1).may_be_shared


def test_the_fingerprint_changes_with_any_field_and_not_otherwise() -> None:
    assert request_fingerprint(NEW) == request_fingerprint(NewConsultation(**vars(NEW)))
    assert request_fingerprint(NEW) != request_fingerprint(NewConsultation(**{**vars(NEW), "summary": "x"}))
    assert request_fingerprint(NEW) != request_fingerprint(NewConsultation(**{**vars(NEW), "contact": None}))
    assert request_fingerprint(NEW) != request_fingerprint(replace(NEW, need_tags=(IssueTag.ISO,)))
    assert request_fingerprint(NEW) != request_fingerprint(replace(NEW, risk=RiskAssessment(distress=True)))


def test_the_fingerprint_of_a_body_without_the_new_fields_is_what_it_always_was() -> None:
    # Keys claimed before the new fields existed must still match a retry of their request.
    legacy = {
        "channel": "chat",
        "topic": "WOMEN",
        "municipality_code": "271403",
        "severity": "S4",
        "lawful_basis": "VITAL_INTEREST_27_1_2",
        "summary": "本文",
        "contact": [None, "0312345678", None],
    }
    expected = hashlib.sha256(json.dumps(legacy, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert request_fingerprint(NEW) == expected


# ---- judging a case -------------------------------------------------------------------------


def test_without_a_risk_assessment_the_posted_severity_stands_as_counsellor_only() -> None:
    decision = judge(_case())
    assert decision.severity.final is Severity.S3 and decision.severity.rule_version == COUNSELLOR_ONLY
    assert decision.lawful_basis is LawfulBasis.CONSENT  # as before: no consent record required


def test_without_a_risk_assessment_the_severity_is_required() -> None:
    assert _fields(_case(requested_severity=None)) == ["body.severity"]


@pytest.mark.parametrize("case", [{"topic": Topic.SUICIDAL}, {"need_tags": (IssueTag.SUI,)}])
def test_a_suicide_case_without_the_screener_is_refused_naming_it(case: dict[str, Any]) -> None:
    assert _fields(_case(**case)) == ["body.risk.cssrs"]


def test_a_suicide_case_names_each_missing_question() -> None:
    risk = RiskAssessment(cssrs=Cssrs(q1_wish_to_be_dead=True, q2_suicidal_thoughts=True))
    fields = _fields(_case(topic=Topic.SUICIDAL, risk=risk, requested_severity=None, lawful_basis=None))
    assert fields == [
        "body.risk.cssrs.q3_method",
        "body.risk.cssrs.q4_intent",
        "body.risk.cssrs.q5_plan",
        "body.risk.cssrs.q6_behaviour",
    ]


def test_with_a_risk_assessment_the_rules_compute_the_severity() -> None:
    risk = RiskAssessment(cssrs=FULL_CSSRS)
    decision = judge(
        _case(topic=Topic.SUICIDAL, risk=risk, requested_severity=None, consent=CONSENT, lawful_basis=None)
    )
    assert decision.severity.final is Severity.S2 and decision.severity.rule_version == RULES_V1
    assert decision.severity.flags == ("S2.cssrs_moderate", "S1.cssrs_low")
    assert decision.lawful_basis is LawfulBasis.CONSENT  # given consent is the basis


def test_lowering_the_computed_severity_without_a_reason_is_refused() -> None:
    risk = RiskAssessment(safe_place_tonight=False)
    assert _fields(_case(risk=risk, requested_severity=Severity.S1, lawful_basis=None)) == [
        "body.severity_reason"
    ]
    lowered = judge(
        _case(
            risk=risk, requested_severity=Severity.S1, severity_reason="友人宅に泊まれる", lawful_basis=None
        )
    )
    assert lowered.severity.final is Severity.S1


def test_an_emergency_needs_its_110_119_record_and_a_basis() -> None:
    risk = RiskAssessment(attempt_in_progress=True)
    assert _fields(_case(risk=risk, requested_severity=None, lawful_basis=None)) == [
        "body.emergency_call",
        "body.lawful_basis",
    ]
    call = EmergencyCall(service=EmergencyService.AMBULANCE_FIRE, called_at=NOW)
    decision = judge(
        _case(
            risk=risk,
            requested_severity=None,
            emergency_call=call,
            lawful_basis=LawfulBasis.VITAL_INTEREST_27_1_2,
        )
    )
    assert decision.severity.final is Severity.S4


def test_a_serious_case_needs_a_basis_unless_the_person_refused() -> None:
    risk = RiskAssessment(abuse_needs_shelter=True)
    assert _fields(_case(risk=risk, requested_severity=None, lawful_basis=None)) == ["body.lawful_basis"]
    refusal = replace(CONSENT, decision=ConsentDecision.REFUSED, items=frozenset())
    decision = judge(_case(risk=risk, requested_severity=None, lawful_basis=None, consent=refusal))
    assert decision.severity.final is Severity.S3 and decision.lawful_basis is None


def test_with_a_risk_assessment_consent_as_a_basis_needs_its_record() -> None:
    risk = RiskAssessment(wants_follow_up=True)
    assert _fields(_case(risk=risk, requested_severity=None)) == ["body.consent"]


def test_a_refusal_contradicts_consent_as_the_basis() -> None:
    refusal = replace(CONSENT, decision=ConsentDecision.REFUSED)
    assert _fields(_case(consent=refusal)) == ["body.lawful_basis"]


def test_a_refusal_leaves_room_for_a_legal_exception() -> None:
    refusal = replace(CONSENT, decision=ConsentDecision.REFUSED)
    decision = judge(_case(consent=refusal, lawful_basis=LawfulBasis.LAW_27_1_1))
    assert decision.lawful_basis is LawfulBasis.LAW_27_1_1


def test_consent_names_a_known_text_version_and_items_and_a_possible_method() -> None:
    odd = replace(CONSENT, text_version="1999-v0", items=frozenset(), method=ConsentMethod.CHAT_CLICK)
    assert _fields(_case(consent=odd)) == [
        "body.consent.text_version",
        "body.consent.method",
        "body.consent.items",
    ]


# ---- what may be disclosed, and which cases a handoff follows --------------------------------


def _consent(items: set[ConsentItem], kind: RecipientKind = RecipientKind.LOCAL_SUPPORT_ORG) -> Consent:
    return Consent(
        id=uuid.uuid4(),
        decision=ConsentDecision.GIVEN,
        items=frozenset(items),
        recipient_kind=kind,
        method=ConsentMethod.RECORDED_LINE,
        text_version=CURRENT_CONSENT_TEXT,
        obtained_at=NOW,
        obtained_by="c",
        recorded_at=NOW,
    )


def test_consent_discloses_exactly_the_consented_items_to_the_consented_kind_of_recipient() -> None:
    consent = _consent({ConsentItem.CONTACT})
    assert disclosable_items(LawfulBasis.CONSENT, consent) == {ConsentItem.CONTACT}
    assert disclosable_items(LawfulBasis.CONSENT, None) == frozenset()
    assert (
        disclosable_items(LawfulBasis.CONSENT, _consent({ConsentItem.CONTACT}, RecipientKind.POLICE))
        == frozenset()
    )
    refused = replace(consent, decision=ConsentDecision.REFUSED)
    assert disclosable_items(LawfulBasis.CONSENT, refused) == frozenset()


def test_a_legal_exception_discloses_what_the_recipient_needs_and_no_basis_nothing() -> None:
    assert disclosable_items(LawfulBasis.VITAL_INTEREST_27_1_2, None) == set(ConsentItem)
    assert disclosable_items(None, _consent(set(ConsentItem))) == frozenset()


@pytest.mark.parametrize(
    ("severity", "basis", "opens"),
    [
        (Severity.S4, LawfulBasis.VITAL_INTEREST_27_1_2, True),
        (Severity.S3, LawfulBasis.CONSENT, True),
        (Severity.S3, None, False),
        (Severity.S2, LawfulBasis.CONSENT, True),
        (Severity.S2, LawfulBasis.LAW_27_1_1, False),
        (Severity.S1, LawfulBasis.CONSENT, False),
    ],
)
def test_which_cases_a_handoff_follows(severity: Severity, basis: LawfulBasis | None, opens: bool) -> None:
    assert opens_handoff(severity, basis) is opens
