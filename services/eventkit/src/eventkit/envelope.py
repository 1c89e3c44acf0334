"""CloudEvents 1.0 Kafka binary mode: the value is the JSON payload, attributes are ce_* headers."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from contracts.events import EVENT_TYPES, Event, Superseded

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
TRACE_HEADERS = ("traceparent", "tracestate")


class MalformedMessage(Exception):
    """A record that can never be processed: unknown type, bad JSON, or a payload off-contract."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    event_id: uuid.UUID
    event_type: str
    source: str
    time: datetime

    def headers(self) -> dict[str, str]:
        return {
            "ce_specversion": SPECVERSION,
            "ce_id": str(self.event_id),
            "ce_type": self.event_type,
            "ce_source": self.source,
            "ce_time": self.time.isoformat(),
            "content-type": CONTENT_TYPE,
        }


def new_envelope(event: Event) -> Envelope:
    return Envelope(uuid.uuid4(), event.TYPE, event.SOURCE, datetime.now(UTC))


def encode_payload(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def to_kafka_headers(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(name, value.encode("utf-8")) for name, value in headers.items()]


def header_map(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers:
        if value is not None:
            result[name] = value.decode("utf-8", errors="replace")
    return result


def decode(
    headers: Sequence[tuple[str, bytes | None]],
    value: bytes | None,
    registry: Mapping[str, type[Event]] = EVENT_TYPES,
) -> tuple[Envelope, Event]:
    """Parse a record into its envelope and typed event, or explain why it is malformed."""
    attrs = header_map(headers)
    if attrs.get("ce_specversion") != SPECVERSION:
        raise MalformedMessage("missing_or_unsupported_ce_specversion")
    try:
        event_id = uuid.UUID(attrs["ce_id"])
    except (KeyError, ValueError):
        raise MalformedMessage("missing_or_invalid_ce_id") from None
    event_type = attrs.get("ce_type", "")
    model = registry.get(event_type)
    if model is None:
        raise MalformedMessage(f"unknown_ce_type:{event_type[:80]}")
    try:
        time = datetime.fromisoformat(attrs["ce_time"])
    except (KeyError, ValueError):
        raise MalformedMessage("missing_or_invalid_ce_time") from None
    if value is None:
        raise MalformedMessage("empty_value")
    try:
        # pydantic's own JSON parser: one pass from bytes to the typed event.
        event = model.model_validate_json(value)
    except ValidationError as error:
        errors = error.errors()
        if any(e["type"] in ("json_invalid", "json_type") for e in errors):
            raise MalformedMessage("value_is_not_json") from None
        # Field locations only: the offending values could be personal data.
        fields = ",".join(".".join(str(p) for p in e["loc"]) for e in errors[:5])
        raise MalformedMessage(f"payload_invalid:{fields}") from None
    except Exception as error:  # whatever else a hostile record provokes must not stop the consumer
        raise MalformedMessage(f"payload_unreadable:{type(error).__name__}") from None
    if isinstance(event, Superseded):
        # An old version still on the topic: handlers only ever see the current one.
        event = event.upcast()
    envelope = Envelope(event_id, event_type, attrs.get("ce_source", ""), time)
    return envelope, event
