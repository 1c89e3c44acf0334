"""Whether a recorded case is handed off to a local support organisation, and if not, why.

The table is the rule as the counsellor meets it. Referral decides the same thing on its side
(`referral.domain.should_open_referral`, from the event's level and basis only): a row here that
opens must open there, and one that does not must not.
"""

import itertools
import uuid
from datetime import UTC, datetime

import pytest

from contracts.vocabulary import Channel, LawfulBasis, Severity, Topic
from intake.consent.domain import Consent, ConsentDecision, ConsentItem, ConsentMethod, RecipientKind
from intake.consultations.domain import Consultation
from intake.consultations.handoff import HandoffDecision, NoHandoff, handoff_decision, opens_handoff

S0, S1, S2, S3, S4 = Severity.S0, Severity.S1, Severity.S2, Severity.S3, Severity.S4
CONSENT = LawfulBasis.CONSENT
LAW = LawfulBasis.LAW_27_1_1
VITAL = LawfulBasis.VITAL_INTEREST_27_1_2
CHILD = LawfulBasis.CHILD_27_1_3
PUBLIC = LawfulBasis.PUBLIC_BODY_27_1_4
GIVEN, REFUSED = ConsentDecision.GIVEN, ConsentDecision.REFUSED
OPENS = None

TABLE: list[tuple[Severity, LawfulBasis | None, ConsentDecision | None, NoHandoff | None]] = [
    # severity, basis, the person's consent decision → why no handoff (OPENS: one opens)
    # S0/S1 are listened to and informed; whatever the basis, nobody is handed on.
    (S0, None, None, NoHandoff.NOT_SERIOUS),
    (S0, None, REFUSED, NoHandoff.NOT_SERIOUS),
    (S1, CONSENT, GIVEN, NoHandoff.NOT_SERIOUS),
    (S1, VITAL, None, NoHandoff.NOT_SERIOUS),
    # S2 (つなぎ) is handed on only with the person's consent.
    (S2, CONSENT, GIVEN, OPENS),
    (S2, CONSENT, None, OPENS),  # a counsellor-only case naming CONSENT: referral opens on the basis
    (S2, None, REFUSED, NoHandoff.CONSENT_REFUSED),
    (S2, None, None, NoHandoff.NO_LAWFUL_BASIS),
    (S2, LAW, None, NoHandoff.CONSENT_REQUIRED),
    (S2, PUBLIC, None, NoHandoff.CONSENT_REQUIRED),
    (S2, VITAL, REFUSED, NoHandoff.CONSENT_REQUIRED),  # the exception is recorded: consent is missing
    # S3/S4 are handed on under consent or any legal exception.
    (S3, CONSENT, GIVEN, OPENS),
    (S3, VITAL, REFUSED, OPENS),  # life and body override the refusal, as recorded
    (S3, CHILD, None, OPENS),
    (S3, None, REFUSED, NoHandoff.CONSENT_REFUSED),
    (S3, None, None, NoHandoff.NO_LAWFUL_BASIS),
    (S4, VITAL, None, OPENS),
    (S4, LAW, None, OPENS),
    (S4, None, REFUSED, NoHandoff.CONSENT_REFUSED),
    (S4, None, None, NoHandoff.NO_LAWFUL_BASIS),
]


@pytest.mark.parametrize(("severity", "basis", "consent", "reason"), TABLE)
def test_each_case_opens_a_handoff_or_says_why_not(
    severity: Severity, basis: LawfulBasis | None, consent: ConsentDecision | None, reason: NoHandoff | None
) -> None:
    decision = handoff_decision(severity, basis, consent)
    assert decision == HandoffDecision(reason)
    assert decision.opens is (reason is None)


def test_the_table_names_every_reason() -> None:
    assert {row[3] for row in TABLE} == {*NoHandoff, None}


@pytest.mark.parametrize(
    ("severity", "basis", "consent"),
    list(itertools.product(Severity, [None, *LawfulBasis], [None, *ConsentDecision])),
)
def test_the_consent_decision_names_the_reason_but_never_decides_whether_one_opens(
    severity: Severity, basis: LawfulBasis | None, consent: ConsentDecision | None
) -> None:
    decision = handoff_decision(severity, basis, consent)
    assert decision.opens is opens_handoff(severity, basis)
    assert (decision.reason is None) is decision.opens


def _consent(decision: ConsentDecision) -> Consent:
    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    return Consent(
        id=uuid.uuid4(),
        decision=decision,
        items=frozenset({ConsentItem.CONTACT}) if decision is GIVEN else frozenset(),
        recipient_kind=RecipientKind.LOCAL_SUPPORT_ORG,
        method=ConsentMethod.RECORDED_LINE,
        text_version="2026-11-v1",
        obtained_at=at,
        obtained_by="counsellor-1",
        recorded_at=at,
    )


def test_a_stored_consultation_decides_from_its_level_its_basis_and_the_latest_consent() -> None:
    stored = Consultation(
        id=uuid.uuid4(),
        channel=Channel.PHONE,
        topic=Topic.LONELY,
        municipality_code="131041",
        severity=S3,
        lawful_basis=None,
        summary="本文",
        contact=None,
        recorded_by="counsellor-1",
        recorded_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
    )
    assert stored.handoff(_consent(REFUSED)).reason is NoHandoff.CONSENT_REFUSED
    assert stored.handoff(None).reason is NoHandoff.NO_LAWFUL_BASIS
