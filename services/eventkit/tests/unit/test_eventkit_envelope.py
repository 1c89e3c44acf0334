"""CloudEvents binary-mode headers: what a record must carry to be processed."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from contracts.events import ConsultationRecorded, ConsultationRecordedV1
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, Severity, Topic
from eventkit.envelope import MalformedMessage, decode, encode_payload, new_envelope, to_kafka_headers

EVENT = ConsultationRecorded(
    case_id=uuid.uuid4(),
    channel=Channel.CHAT,
    topic=Topic.UNDER18,
    municipality_code="131016",
    severity=Severity.S2,
    lawful_basis=None,
    recorded_at=datetime(2026, 5, 2, tzinfo=UTC),
    need_tags=(IssueTag.MON, IssueTag.ISO),
    age_band=AgeBand.ADULT,
    gender=Gender.FEMALE,
    language="ja",
)


def _record() -> tuple[list[tuple[str, bytes]], bytes]:
    envelope = new_envelope(EVENT)
    headers = to_kafka_headers(
        envelope.headers() | {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}
    )
    return headers, json.dumps(encode_payload(EVENT)).encode()


def test_a_well_formed_record_decodes_to_its_typed_event() -> None:
    headers, value = _record()
    envelope, event = decode(headers, value)
    assert event == EVENT
    assert envelope.event_type == "consultation.recorded.v2"
    assert envelope.source == "/tsunagu/intake"


def test_the_headers_are_the_cloudevents_binary_mode_attributes() -> None:
    names = {name for name, _ in _record()[0]}
    assert {"ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion", "content-type"} <= names


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, v: ([x for x in h if x[0] != "ce_id"], v), "missing_or_invalid_ce_id"),
        (lambda h, v: ([(k, b"nope.v9" if k == "ce_type" else b) for k, b in h], v), "unknown_ce_type"),
        (lambda h, v: (h, b"{not json"), "value_is_not_json"),
        (lambda h, v: (h, b'{"case_id": "x"}'), "payload_invalid"),
        (lambda h, v: ([x for x in h if x[0] != "ce_specversion"], v), "ce_specversion"),
        (lambda h, v: (h, None), "empty_value"),
    ],
)
def test_a_malformed_record_is_explained_not_raised_as_a_crash(mutate, reason) -> None:  # type: ignore[no-untyped-def]
    headers, value = mutate(*_record())
    with pytest.raises(MalformedMessage) as caught:
        decode(headers, value)
    assert reason in caught.value.reason


def test_a_malformed_payload_reason_names_fields_not_values() -> None:
    headers, _ = _record()
    value = json.dumps(encode_payload(EVENT) | {"municipality_code": "090-1234-5678"}).encode()
    with pytest.raises(MalformedMessage) as caught:
        decode(headers, value)
    assert "municipality_code" in caught.value.reason
    assert "090-1234-5678" not in caught.value.reason


def test_a_superseded_version_is_read_and_handed_on_as_the_current_one() -> None:
    old = ConsultationRecordedV1.model_validate(
        EVENT.model_dump(exclude={"need_tags", "age_band", "gender", "language"})
    )
    envelope = new_envelope(old)

    decoded_envelope, event = decode(
        to_kafka_headers(envelope.headers()), json.dumps(encode_payload(old)).encode()
    )

    assert decoded_envelope.event_type == "consultation.recorded.v1"  # what was on the wire
    assert type(event) is ConsultationRecorded
    assert (event.need_tags, event.age_band, event.gender, event.language) == (
        (),
        AgeBand.UNKNOWN,
        Gender.UNKNOWN,
        "ja",
    )
