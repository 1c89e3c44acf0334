"""Writes the committed contract documents: one JSON Schema per event and the AsyncAPI 3.0 file.

Run `python -m contracts.generate` after changing an event; a test fails while they are stale.
"""

import json
import sys
from pathlib import Path
from typing import Any

from contracts.events import ALL_EVENTS, Event
from contracts.topics import ALL_TOPICS, DEAD_LETTER_TOPICS, EVENT_TOPICS, SUBSCRIPTIONS

SCHEMAS_DIR = Path(__file__).resolve().parents[2]
JSONSCHEMA_DIR = SCHEMAS_DIR / "jsonschema"
ASYNCAPI_PATH = SCHEMAS_DIR / "asyncapi.yaml"

# Who publishes where (through its outbox). Alerts for operators may come from several services.
PRODUCERS: dict[str, tuple[str, ...]] = {
    # Every consumer may raise an operator alert: a record it dead-lettered pages the operators.
    "intake": ("intake.consultations.v1", "ops.alerts.v1"),
    "referral": ("referral.referrals.v1", "ops.alerts.v1"),
    "directory": ("directory.matches.v1", "ops.alerts.v1"),
    "notify": ("notify.deliveries.v1", "ops.alerts.v1"),
}


def message_name(event: type[Event]) -> str:
    return event.__name__


def event_schema(event: type[Event]) -> dict[str, Any]:
    schema = event.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://tsunagu.example/schemas/{event.TYPE}.json"
    schema["x-cloudevents-type"] = event.TYPE
    schema["x-topic"] = event.TOPIC
    return schema


def render_jsonschemas() -> dict[str, str]:
    return {
        f"{event.TYPE}.json": json.dumps(event_schema(event), ensure_ascii=False, indent=2) + "\n"
        for event in ALL_EVENTS
    }


def asyncapi_document() -> dict[str, Any]:
    header_schema = {
        "type": "object",
        "required": ["ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion", "content-type"],
        "properties": {
            "ce_id": {"type": "string", "description": "Event id; consumers deduplicate on it."},
            "ce_type": {"type": "string"},
            "ce_source": {"type": "string"},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_specversion": {"const": "1.0"},
            "content-type": {"const": "application/json"},
            "traceparent": {"type": "string", "description": "W3C trace context of this hop."},
        },
    }
    messages: dict[str, Any] = {}
    for event in ALL_EVENTS:
        messages[message_name(event)] = {
            "name": event.TYPE,
            "title": event.__name__,
            "summary": (event.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": header_schema,
            "payload": {"$ref": f"./jsonschema/{event.TYPE}.json"},
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "format": "uuid", "description": "case_id"},
                    "bindingVersion": "0.5.0",
                }
            },
        }
    channels: dict[str, Any] = {}
    for spec in ALL_TOPICS:
        on_topic = [e for e in ALL_EVENTS if spec.name == e.TOPIC]
        channel_id = spec.name.replace(".", "_")
        channel: dict[str, Any] = {
            "address": spec.name,
            "description": spec.description,
            "bindings": {
                "kafka": {
                    "topic": spec.name,
                    "partitions": spec.partitions,
                    "replicas": 1,
                    "bindingVersion": "0.5.0",
                }
            },
        }
        if on_topic:
            channel["messages"] = {
                message_name(e): {"$ref": f"#/components/messages/{message_name(e)}"} for e in on_topic
            }
        channels[channel_id] = channel
    operations: dict[str, Any] = {}
    for service, produced in PRODUCERS.items():
        for topic in produced:
            channel_id = topic.replace(".", "_")
            operations[f"{service}_publishes_{channel_id}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"{service} publishes through its transactional outbox.",
            }
    for group, specs in SUBSCRIPTIONS.items():
        for spec in specs:
            channel_id = spec.name.replace(".", "_")
            operations[f"{group}_consumes_{channel_id}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"{group} consumes idempotently; poison messages go to {spec.name}.dlt.",
                "bindings": {"kafka": {"groupId": {"const": group}, "bindingVersion": "0.5.0"}},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Tsunagu events",
            "version": "1.0.0",
            "description": (
                "Events between intake, referral, directory and notify. CloudEvents 1.0 Kafka "
                "binary mode: the value is the JSON payload, attributes travel as ce_* headers, "
                "the key is the case id. Dead-letter topics hold the original record unchanged."
            ),
        },
        "servers": {"local": {"host": "127.0.0.1:19092", "protocol": "kafka"}},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
        "x-topics": {
            "events": [t.name for t in EVENT_TOPICS],
            "dead-letter": [t.name for t in DEAD_LETTER_TOPICS],
        },
    }


def render_asyncapi() -> str:
    import yaml  # only the generator needs it

    text: str = yaml.safe_dump(asyncapi_document(), allow_unicode=True, sort_keys=False, width=100)
    return text


def main() -> int:
    JSONSCHEMA_DIR.mkdir(exist_ok=True)
    expected = render_jsonschemas()
    for stale in JSONSCHEMA_DIR.glob("*.json"):
        if stale.name not in expected:
            stale.unlink()
    for name, text in expected.items():
        (JSONSCHEMA_DIR / name).write_text(text, encoding="utf-8")
    ASYNCAPI_PATH.write_text(render_asyncapi(), encoding="utf-8")
    print(f"wrote {len(expected)} JSON Schemas and {ASYNCAPI_PATH.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
