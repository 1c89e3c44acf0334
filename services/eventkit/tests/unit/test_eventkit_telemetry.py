"""What leaves a service as spans: errors without their messages."""

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from eventkit import telemetry

PERSONAL = "山田花子 090-1234-5678"


def exported_by(exporter: InMemorySpanExporter) -> telemetry.TracerProvider:
    """A provider as `setup_telemetry` builds it, exporting synchronously to `exporter`."""
    provider = telemetry.build_provider("test", exporter=None)
    provider.add_span_processor(SimpleSpanProcessor(telemetry._Redacting(exporter)))
    return provider


def test_an_error_leaves_with_its_type_but_never_its_message() -> None:
    exporter = InMemorySpanExporter()
    tracer = exported_by(exporter).get_tracer("test")
    # The SDK's defaults: the exception is recorded as an event and sets the status.
    with pytest.raises(ValueError, match="invalid"), tracer.start_as_current_span("POST /v1/consultations"):
        raise ValueError(f"invalid phone {PERSONAL}")
    with tracer.start_as_current_span("select") as span:
        span.set_status(Status(StatusCode.ERROR, f"duplicate key ({PERSONAL})"))

    raised, failed = exporter.get_finished_spans()
    assert raised.status.status_code is StatusCode.ERROR and failed.status.status_code is StatusCode.ERROR
    assert raised.status.description is None and failed.status.description is None
    [event] = raised.events
    assert event.name == "exception" and (event.attributes or {})["exception.type"] == "ValueError"
    everything = repr(
        [
            (s.name, s.attributes, s.status, [(e.name, e.attributes) for e in s.events])
            for s in (raised, failed)
        ]
    )
    assert PERSONAL not in everything
