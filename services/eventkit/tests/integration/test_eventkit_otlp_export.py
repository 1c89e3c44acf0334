"""Spans leave over OTLP/HTTP, as compose and Kubernetes export them: to a real HTTP receiver on
loopback that decodes what the collector would (`ExportTraceServiceRequest`), redacted as always."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from eventkit import telemetry

PERSONAL = "山田花子 090-1234-5678"


class _Collector(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.requests: list[tuple[str, str, ExportTraceServiceRequest]] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Receive(BaseHTTPRequestHandler):
    server: _Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.requests.append((self.path, self.headers["Content-Type"], request))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[_Collector]:
    server = _Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_otlp_exports_each_span_to_the_collectors_traces_path_with_the_service_name_and_no_message(
    collector: _Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "intake")
    exporter = telemetry._exporter()
    assert isinstance(exporter, OTLPSpanExporter)
    provider = telemetry.build_provider("ignored", exporter)
    tracer = provider.get_tracer("test")

    with pytest.raises(ValueError), tracer.start_as_current_span("POST /v1/consultations"):
        raise ValueError(f"invalid phone {PERSONAL}")
    provider.shutdown()

    [(path, content_type, request)] = collector.requests
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    [resource_spans] = request.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "intake"
    [span] = [s for scope in resource_spans.scope_spans for s in scope.spans]
    assert span.name == "POST /v1/consultations"
    assert PERSONAL not in str(request)


def test_otlp_over_grpc_is_refused_rather_than_sent_as_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with pytest.raises(ValueError, match="http/protobuf"):
        telemetry._exporter()


def test_zipkin_remains_for_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    monkeypatch.setenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "http://127.0.0.1:9411/api/v2/spans")
    assert type(telemetry._exporter()).__name__ == "ZipkinExporter"
