"""Consultation rules and the announcement they make."""

import uuid
from datetime import UTC, datetime

import pytest

from contracts.vocabulary import Channel, LawfulBasis, Severity, Topic
from intake.domain import Consultation, Contact, NewConsultation, request_fingerprint

pytestmark = pytest.mark.unit

NEW = NewConsultation(
    channel=Channel.CHAT,
    topic=Topic.WOMEN,
    municipality_code="271403",
    severity=Severity.S4,
    lawful_basis=LawfulBasis.VITAL_INTEREST_27_1_2,
    summary="本文",
    contact=Contact(phone="0312345678"),
)


def _consultation(basis: LawfulBasis | None) -> Consultation:
    return Consultation(
        id=uuid.uuid4(),
        channel=NEW.channel,
        topic=NEW.topic,
        municipality_code=NEW.municipality_code,
        severity=NEW.severity,
        lawful_basis=basis,
        summary=NEW.summary,
        contact=NEW.contact,
        recorded_by="c",
        recorded_at=datetime.now(UTC),
    )


def test_the_recorded_event_carries_codes_and_never_the_summary_or_contact() -> None:
    event = _consultation(LawfulBasis.CONSENT).recorded_event()
    dumped = event.model_dump_json()
    assert "本文" not in dumped and "0312345678" not in dumped
    assert event.severity is Severity.S4 and event.municipality_code == "271403"


def test_a_consultation_without_lawful_basis_may_not_be_shared() -> None:
    assert not _consultation(None).may_be_shared
    assert _consultation(LawfulBasis.LAW_27_1_1).may_be_shared


def test_the_fingerprint_changes_with_any_field_and_not_otherwise() -> None:
    assert request_fingerprint(NEW) == request_fingerprint(NewConsultation(**vars(NEW)))
    assert request_fingerprint(NEW) != request_fingerprint(NewConsultation(**{**vars(NEW), "summary": "x"}))
    assert request_fingerprint(NEW) != request_fingerprint(NewConsultation(**{**vars(NEW), "contact": None}))
