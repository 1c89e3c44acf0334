"""The operator alert a dead letter raises: stable id, codes only, the case where the key is one."""

import uuid

from aiokafka import ConsumerRecord

from contracts.vocabulary import AlertKind
from eventkit.dead_letter_alert import dead_letter_alert


def a_record(key: bytes | None, offset: int = 7) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="directory.matches.v1",
        partition=2,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=b"{not json, and 090-1234-5678 inside}",
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=[],
    )


def test_the_alert_names_the_dead_letter_topic_and_nothing_of_the_record() -> None:
    case = uuid.uuid4()
    alert = dead_letter_alert("referral", a_record(str(case).encode()), "directory.matches.v1.dlt")
    assert alert.kind is AlertKind.DEAD_LETTERED
    assert alert.case_id == case and alert.referral_id is None and alert.severity is None
    assert alert.detail == ("topic:directory.matches.v1.dlt",)
    assert "090" not in alert.model_dump_json()


def test_the_same_record_dead_lettered_again_raises_the_same_alert_id() -> None:
    first = dead_letter_alert("referral", a_record(b"x"), "directory.matches.v1.dlt")
    again = dead_letter_alert("referral", a_record(b"x"), "directory.matches.v1.dlt")
    other = dead_letter_alert("referral", a_record(b"x", offset=8), "directory.matches.v1.dlt")
    assert first.alert_id == again.alert_id != other.alert_id
    assert first.case_id == again.case_id  # a key that is no case id: the record's place stands for it
