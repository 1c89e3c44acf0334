"""A dead letter is a person's job: after parking a record in its dead-letter topic, the consumer
raises `operator.alert_raised.v1` (kind `dead_lettered`), which notify pages to whoever is on call —
one page per dead-letter topic while it is open.

The alert is sent straight to the broker, like the dead letter itself (there is no transaction to
join: the record could not be applied). Losing it loses a page, not the record: the dead letter is
on its topic, counted in `tsunagu_dead_letters_total` and alerted by Prometheus' `TsunaguDeadLetters`.
"""

import logging
import uuid
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError

from contracts.events import OperatorAlertRaised
from contracts.vocabulary import AlertKind
from eventkit.envelope import encode_payload, new_envelope, to_kafka_headers

log = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("6f1c2d0e-5b7a-4c38-9e2f-0d4b8a1c7e55")


def dead_letter_alert(
    group: str, record: ConsumerRecord[bytes, bytes], dlt_topic: str
) -> OperatorAlertRaised:
    """The alert for one dead letter: the same id however often the record is dead-lettered (a
    redelivery after a crash pages nobody twice)."""
    where = f"{record.topic}/{record.partition}/{record.offset}"
    try:
        case_id = uuid.UUID((record.key or b"").decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        case_id = uuid.uuid5(_NAMESPACE, where)  # a record without a case: its place stands for it
    return OperatorAlertRaised(
        case_id=case_id,
        alert_id=uuid.uuid5(_NAMESPACE, f"{group}:{where}"),
        kind=AlertKind.DEAD_LETTERED,
        raised_by=group,
        detail=(f"topic:{dlt_topic}",),  # codes only: never the record or its error text
        raised_at=datetime.now(UTC),
    )


async def raise_dead_letter_alert(
    producer: AIOKafkaProducer, group: str, record: ConsumerRecord[bytes, bytes], dlt_topic: str
) -> None:
    alert = dead_letter_alert(group, record, dlt_topic)
    envelope = new_envelope(alert)
    try:
        await producer.send_and_wait(
            alert.TOPIC,
            value=orjson.dumps(encode_payload(alert)),
            key=alert.partition_key().encode("utf-8"),
            headers=to_kafka_headers(envelope.headers()),
        )
    except KafkaError as error:
        reason = type(error).__name__
        log.error("dead letter on %s not paged (%s); Prometheus still alerts", dlt_topic, reason)
