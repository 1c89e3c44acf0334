"""Tracing in one call, and the messaging spans that make one trace per case across Kafka.

The exporter follows the standard `OTEL_*` environment: `OTEL_TRACES_EXPORTER=otlp` (OTLP over
HTTP, `OTEL_EXPORTER_OTLP_ENDPOINT` and the other `OTEL_EXPORTER_OTLP_*` variables) where a collector
runs, `zipkin` with `OTEL_EXPORTER_ZIPKIN_ENDPOINT` for the local stack's Zipkin server, `console`,
or `none`. Span attributes carry ids only, never personal data.
"""

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import Attributes

log = logging.getLogger(__name__)

# Attribute names of our own; the ids are pseudonymous and safe to export.
CASE_ID = "case.id"
REFERRAL_ID = "referral.id"
ORGANISATION_ID = "organisation.id"
DELIVERY_ATTEMPT = "handoff.attempt"

TRACER_NAME = "tsunagu"


@dataclass
class Telemetry:
    provider: TracerProvider

    def shutdown(self) -> None:
        self.provider.force_flush(timeout_millis=5_000)
        self.provider.shutdown()


def _exporter() -> SpanExporter | None:
    kind = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if kind in ("", "none"):
        return None
    if kind == "otlp":
        # HTTP/protobuf, the one protocol this image carries; a gRPC setting would be ignored
        # silently, so it is refused instead.
        protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
            "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
        )
        if protocol.strip() != "http/protobuf":
            raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported (http/protobuf)")
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT, ...
    if kind == "zipkin":
        # Deprecated upstream; kept for the local stack, whose Zipkin server runs without Docker.
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        return ZipkinExporter()  # reads OTEL_EXPORTER_ZIPKIN_ENDPOINT
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER={kind!r} is not supported (otlp, zipkin, console, none)")


# Attributes of an exception event that can echo input (a message, or a traceback ending in it).
_EXCEPTION_TEXT = frozenset({"exception.message", "exception.stacktrace"})


def _without_messages(span: ReadableSpan) -> ReadableSpan:
    """The span as exported: an error keeps its type, never its message.

    Our own code records `error.type` only, but the SDK and instrumentations put the exception's
    message in the status description and in `exception` events, and a message can echo input,
    which may be personal data."""
    exceptions = [e for e in span.events if e.name == "exception"]
    if not span.status.description and not exceptions:
        return span
    events = [
        Event(e.name, _without_text(e.attributes), e.timestamp) if e.name == "exception" else e
        for e in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _without_text(attributes: Attributes) -> dict[str, Any]:
    return {k: v for k, v in (attributes or {}).items() if k not in _EXCEPTION_TEXT}


class _Redacting(SpanExporter):
    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([_without_messages(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


def build_provider(service_name: str, exporter: SpanExporter | None) -> TracerProvider:
    """The provider `setup_telemetry` installs: the sampler from `OTEL_TRACES_SAMPLER` (default:
    every trace), and a batching exporter that redacts."""
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource, sampler=sampling._get_from_env_or_default())
    if exporter is not None:
        provider.add_span_processor(
            BatchSpanProcessor(
                _Redacting(exporter),
                schedule_delay_millis=500,
                max_queue_size=20_000,
                max_export_batch_size=2_000,
            )
        )
    return provider


def setup_telemetry(service_name: str, *, exporter: SpanExporter | None = None) -> Telemetry:
    """Install the tracer provider and the httpx instrumentation for this process. The database is
    traced by the pool's own connection class (`eventkit.dbtrace`): one span per transaction."""
    provider = build_provider(service_name, exporter if exporter is not None else _exporter())
    trace.set_tracer_provider(provider)

    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    if not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry:
        HTTPXClientInstrumentor().instrument()
    return Telemetry(provider)


_tracers: dict[str, tuple[trace.TracerProvider, trace.Tracer]] = {}


def tracer(name: str = TRACER_NAME) -> trace.Tracer:
    """The tracer `name` of the current provider, made once: `trace.get_tracer` builds a new one
    on every call (an instrumentation scope made and compared each time), which had cost about 3%
    of a consumer's CPU, a span at a time."""
    provider = trace.get_tracer_provider()
    held = _tracers.get(name)
    if held is None or held[0] is not provider:
        held = _tracers[name] = (provider, provider.get_tracer(name))
    return held[1]


def current_trace_headers() -> dict[str, str]:
    """The W3C context of the current span, to be stored beside an outbox row."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


@contextmanager
def quiet() -> Iterator[None]:
    """Background polling would otherwise make a root trace of every idle database query."""
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        yield


def _messaging_attributes(
    operation: str, kind: str, topic: str, *, message_id: str | None, key: str | None
) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.name": operation,
        "messaging.operation.type": kind,
        "messaging.destination.name": topic,
    }
    if message_id is not None:
        attributes["messaging.message.id"] = message_id
    if key is not None:
        # Keys are case ids (UUIDs), never personal data.
        attributes["messaging.kafka.message.key"] = key
    return attributes


def start_send_span(
    topic: str, *, stored_context: Mapping[str, str], message_id: str, key: str
) -> tuple[Span, dict[str, str]]:
    """Start a `send <topic>` PRODUCER span parented by the context stored with the outbox row.

    Returns the span, to be ended once the broker acknowledged the record, and the W3C headers
    to put on the record so that the next hop's consumer continues this trace.
    """
    parent = propagate.extract(dict(stored_context))
    span = tracer().start_span(
        f"send {topic}",
        context=parent,
        kind=SpanKind.PRODUCER,
        record_exception=False,
        attributes=_messaging_attributes("send", "send", topic, message_id=message_id, key=key),
    )
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span, parent))
    return span, carrier


@contextmanager
def process_span(
    topic: str,
    *,
    headers: Sequence[tuple[str, bytes]],
    group: str,
    partition: int,
    offset: int,
    message_id: str | None,
    key: str | None,
) -> Iterator[Span]:
    """`process <topic>` CONSUMER span: a child of the incoming traceparent and linked to it.

    The messaging conventions prefer a link alone; a child as well is what makes the counsellor's
    request, every hop and the partner's webhook one trace per case.
    """
    carrier = {name: value.decode("latin-1") for name, value in headers if value is not None}
    parent = propagate.extract(carrier)
    parent_span_context = trace.get_current_span(parent).get_span_context()
    links = [Link(parent_span_context)] if parent_span_context.is_valid else []
    attributes = _messaging_attributes("process", "process", topic, message_id=message_id, key=key)
    attributes["messaging.consumer.group.name"] = group
    attributes["messaging.destination.partition.id"] = str(partition)
    attributes["messaging.kafka.offset"] = offset
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(
            f"process {topic}",
            kind=SpanKind.CONSUMER,
            links=links,
            attributes=attributes,
            record_exception=False,
            # The SDK's own status would carry the exception's message, which can echo input;
            # `record_error` sets the type only.
            set_status_on_exception=False,
        ) as span:
            yield span
    finally:
        otel_context.detach(token)


def record_error(span: Span, error: BaseException) -> None:
    """Error type only: exception messages can echo input, which may be personal data."""
    span.set_attribute("error.type", type(error).__qualname__)
    span.set_status(Status(StatusCode.ERROR, type(error).__qualname__))


def tag(
    *,
    case_id: object | None = None,
    referral_id: object | None = None,
    organisation_id: object | None = None,
) -> None:
    """Put the ids of what the current span works on; ids only, by construction."""
    span = trace.get_current_span()
    for name, value in (
        (CASE_ID, case_id),
        (REFERRAL_ID, referral_id),
        (ORGANISATION_ID, organisation_id),
    ):
        if value is not None:
            span.set_attribute(name, str(value))
