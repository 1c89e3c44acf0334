"""The vocabulary of a declared setting, and the targets that turn it into a value.

A service's environment is declared once (services.py) in terms of what each value *is* — its
own database, another service's URL, a generated secret — and each target says what that is
where the services run: the local stack (loopback ports, secrets from .stack/secrets.json),
compose.yaml (service names on the compose network, secrets from deploy/.env) or Kubernetes
(deploy/k8s/tsunagu_k8s/target.py: ConfigMap values and references to Secrets).

A target may leave a setting unset (None): the local stack's broker needs no credentials, and
each target exports spans in the one protocol its trace backend speaks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, Protocol, TypeVar

LOOPBACK: Final = "127.0.0.1"
# Where a container serves /metrics: each has its own address, so one number serves all.
METRICS_PORT: Final = "9090"
# On the local stack every process is on loopback: /metrics of a service listens 1000 ports above
# its HTTP port (intake 9101, …, web 9100), where the optional local Prometheus scrapes it.
LOCAL_METRICS_OFFSET: Final = 1000

# What a value renders to: a string for the local stack and compose; the Kubernetes target's
# own type (a ConfigMap value or a reference to a Secret's key).
T = TypeVar("T")

# The broker's security settings of a service (`<PREFIX>_KAFKA_<PART>`, eventkit.settings).
BrokerPart = Literal["security_protocol", "sasl_mechanism", "sasl_username", "sasl_password", "ssl_cafile"]
BROKER_PARTS: Final[tuple[BrokerPart, ...]] = (
    "security_protocol",
    "sasl_mechanism",
    "sasl_username",
    "sasl_password",
    "ssl_cafile",
)
# The standard OpenTelemetry variables that say where spans go (eventkit.telemetry reads them).
TracePart = Literal["exporter", "zipkin_endpoint", "otlp_endpoint"]
TRACE_VARIABLES: Final[Mapping[TracePart, str]] = {
    "exporter": "OTEL_TRACES_EXPORTER",
    "zipkin_endpoint": "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
    "otlp_endpoint": "OTEL_EXPORTER_OTLP_ENDPOINT",
}


def db_password_secret(service: str) -> str:
    """The name of the generated password of a service's database role."""
    return f"{service.upper()}_DB_PASSWORD"


class Target(Protocol[T]):
    """Where the services run: how they reach each other, the broker, and their secrets."""

    def database_url(self, service: str) -> T: ...
    def kafka_servers(self) -> T: ...
    def broker_access(self, service: str, part: BrokerPart) -> T | None: ...
    def bind_host(self) -> T: ...
    def host(self, component: str) -> T: ...
    def port(self, component: str) -> T: ...
    def metrics_port(self, component: str) -> T | None: ...
    def url(self, component: str) -> T: ...
    def public_url(self, component: str) -> T: ...
    def secret(self, name: str) -> T: ...
    def traces(self, part: TracePart) -> T | None: ...
    def trace_link(self) -> T: ...
    def fixed(self, local: str, deployed: str) -> T: ...
    def stand_in(self, component: str, real: str) -> T: ...
    def site_specific(self, name: str, value: T) -> T: ...


class Value(Protocol):
    def render(self, target: Target[T]) -> T | None: ...


@dataclass(frozen=True)
class Database:
    """The service's own database, reached as its own role."""

    service: str

    def render(self, target: Target[T]) -> T:
        return target.database_url(self.service)


@dataclass(frozen=True)
class KafkaServers:
    def render(self, target: Target[T]) -> T:
        return target.kafka_servers()


@dataclass(frozen=True)
class BrokerAccess:
    """How the service authenticates to the broker, as its own principal; unset where the broker
    takes anyone (the local stack's and compose's, on a private network)."""

    service: str
    part: BrokerPart

    def render(self, target: Target[T]) -> T | None:
        return target.broker_access(self.service, self.part)


@dataclass(frozen=True)
class BindHost:
    """The address a service listens on."""

    def render(self, target: Target[T]) -> T:
        return target.bind_host()


@dataclass(frozen=True)
class Host:
    component: str

    def render(self, target: Target[T]) -> T:
        return target.host(self.component)


@dataclass(frozen=True)
class Port:
    component: str

    def render(self, target: Target[T]) -> T:
        return target.port(self.component)


@dataclass(frozen=True)
class MetricsPort:
    """The internal port of Prometheus' /metrics: one port for all in a deployment (each service
    has its own address there), the service's port + 1000 on the local stack (9102 for referral)."""

    component: str

    def render(self, target: Target[T]) -> T | None:
        return target.metrics_port(self.component)


@dataclass(frozen=True)
class Url:
    """How one service calls another, inside the system."""

    component: str

    def render(self, target: Target[T]) -> T:
        return target.url(self.component)


@dataclass(frozen=True)
class PublicUrl:
    """What a browser, a partner or a provider calls: it appears in links and signatures."""

    component: str

    def render(self, target: Target[T]) -> T:
        return target.public_url(self.component)


@dataclass(frozen=True)
class Secret:
    """A generated secret, by its name in deploy/.env (services.SECRETS says how it is made)."""

    name: str

    def render(self, target: Target[T]) -> T:
        return target.secret(self.name)


@dataclass(frozen=True)
class Traces:
    """Where spans go: OTLP to a collector where one runs, Zipkin's format to the local stack's
    Zipkin server; the endpoint of the protocol a target does not speak is left unset."""

    part: TracePart

    def render(self, target: Target[T]) -> T | None:
        return target.traces(self.part)


@dataclass(frozen=True)
class TraceLink:
    """Where a screen links a trace id: the trace UI's page of one trace."""

    def render(self, target: Target[T]) -> T:
        return target.trace_link()


@dataclass(frozen=True)
class Fixed:
    """A plain value; `deployed` where a real deployment differs from the local stack."""

    value: str
    deployed: str | None = None

    def render(self, target: Target[T]) -> T:
        return target.fixed(self.value, self.value if self.deployed is None else self.deployed)


@dataclass(frozen=True)
class StandIn:
    """A provider outside Tsunagu at `real`; the local stack runs `component` in its place."""

    component: str
    real: str

    def render(self, target: Target[T]) -> T:
        return target.stand_in(self.component, self.real)


@dataclass(frozen=True)
class Setting:
    """One environment variable. A site-specific one is the deployment's to set (its public
    address, say); the declared value is only its default."""

    name: str
    value: Value
    site_specific: bool = False

    def render(self, target: Target[T]) -> T | None:
        value = self.value.render(target)
        if value is None or not self.site_specific:
            return value
        return target.site_specific(self.name, value)


@dataclass(frozen=True)
class Service:
    """A service as every target runs it: its name, its HTTP port, its settings."""

    name: str
    port: int
    settings: tuple[Setting, ...]

    def environment(self, target: Target[T]) -> dict[str, T]:
        """The variables the target sets, by name; a setting it leaves unset is not among them."""
        rendered = {setting.name: setting.render(target) for setting in self.settings}
        return {name: value for name, value in rendered.items() if value is not None}


class LocalTarget:
    """The local stack: everything on loopback at the stack's ports, secrets from its store."""

    def __init__(
        self,
        ports: Mapping[str, int],
        secret: Callable[[str], str],
        database_url: Callable[[str], str],
    ) -> None:
        self._ports = ports
        self._secret = secret
        self._database_url = database_url

    def database_url(self, service: str) -> str:
        return self._database_url(service)

    def kafka_servers(self) -> str:
        return f"{LOOPBACK}:{self._ports['kafka']}"

    def broker_access(self, service: str, part: BrokerPart) -> str | None:
        return None

    def bind_host(self) -> str:
        return LOOPBACK

    def host(self, component: str) -> str:
        return LOOPBACK

    def port(self, component: str) -> str:
        return str(self._ports[component])

    def metrics_port(self, component: str) -> str | None:
        return str(self._ports[component] + LOCAL_METRICS_OFFSET)

    def url(self, component: str) -> str:
        return f"http://{LOOPBACK}:{self._ports[component]}"

    def public_url(self, component: str) -> str:
        return self.url(component)

    def secret(self, name: str) -> str:
        return self._secret(name)

    def traces(self, part: TracePart) -> str | None:
        # Zipkin's server is one jar from Maven Central: the stack runs it without Docker.
        return {
            "exporter": "zipkin",
            "zipkin_endpoint": f"http://{LOOPBACK}:{self._ports['zipkin']}/api/v2/spans",
            "otlp_endpoint": None,
        }[part]

    def trace_link(self) -> str:
        return f"http://{LOOPBACK}:{self._ports['zipkin']}/zipkin/traces/{{trace_id}}"

    def fixed(self, local: str, deployed: str) -> str:
        return local

    def stand_in(self, component: str, real: str) -> str:
        return self.url(component)

    def site_specific(self, name: str, value: str) -> str:
        return value


class ComposeTarget:
    """deploy/compose.yaml: services by name on the compose network, secrets from deploy/.env,
    Jaeger (v2, which takes OTLP) as the trace UI, the services' ports published on the host's
    loopback."""

    # Inside the network, by compose service name; "mail" is Mailpit's SMTP side, "jaeger" its
    # OTLP/HTTP receiver.
    PORTS: Final[Mapping[str, int]] = {"postgres": 5432, "kafka": 9092, "mail": 1025, "jaeger": 4318}
    TRACE_UI: Final = f"http://{LOOPBACK}:16686"

    def __init__(self, service_ports: Mapping[str, int]) -> None:
        self._ports = {**service_ports, **self.PORTS}

    def database_url(self, service: str) -> str:
        password = "${" + db_password_secret(service) + "}"
        return f"postgresql://{service}:{password}@postgres:{self._ports['postgres']}/{service}"

    def kafka_servers(self) -> str:
        return f"kafka:{self._ports['kafka']}"

    def broker_access(self, service: str, part: BrokerPart) -> str | None:
        return None

    def bind_host(self) -> str:
        return "0.0.0.0"

    def host(self, component: str) -> str:
        return component

    def port(self, component: str) -> str:
        return str(self._ports[component])

    def metrics_port(self, component: str) -> str | None:
        return METRICS_PORT

    def url(self, component: str) -> str:
        return f"http://{component}:{self._ports[component]}"

    def public_url(self, component: str) -> str:
        return f"http://{LOOPBACK}:{self._ports[component]}"

    def secret(self, name: str) -> str:
        return "${" + name + ":?}"

    def traces(self, part: TracePart) -> str | None:
        return {
            "exporter": "otlp",
            "zipkin_endpoint": None,
            "otlp_endpoint": f"http://jaeger:{self._ports['jaeger']}",
        }[part]

    def trace_link(self) -> str:
        return f"{self.TRACE_UI}/trace/{{trace_id}}"

    def fixed(self, local: str, deployed: str) -> str:
        return deployed

    def stand_in(self, component: str, real: str) -> str:
        return real

    def site_specific(self, name: str, value: str) -> str:
        return "${" + name + ":-" + value + "}"
