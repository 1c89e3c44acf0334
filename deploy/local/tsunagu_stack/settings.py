"""The vocabulary of a declared setting, and the targets that turn it into a value.

A service's environment is declared once (services.py) in terms of what each value *is* — its
own database, another service's URL, a generated secret — and each target says what that is
where the services run: the local stack (loopback ports, secrets from .stack/secrets.json) or
compose.yaml (service names on the compose network, secrets from deploy/.env). A Kubernetes
target would be one more class with the same methods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

LOOPBACK: Final = "127.0.0.1"


def db_password_secret(service: str) -> str:
    """The name of the generated password of a service's database role."""
    return f"{service.upper()}_DB_PASSWORD"


class Target(Protocol):
    """Where the services run: how they reach each other, the broker, and their secrets."""

    def database_url(self, service: str) -> str: ...
    def kafka_servers(self) -> str: ...
    def bind_host(self) -> str: ...
    def host(self, component: str) -> str: ...
    def port(self, component: str) -> str: ...
    def url(self, component: str) -> str: ...
    def public_url(self, component: str) -> str: ...
    def secret(self, name: str) -> str: ...
    def span_collector(self) -> str: ...
    def trace_link(self) -> str: ...
    def fixed(self, local: str, deployed: str) -> str: ...
    def stand_in(self, component: str, real: str) -> str: ...
    def site_specific(self, name: str, value: str) -> str: ...


class Value(Protocol):
    def render(self, target: Target) -> str: ...


@dataclass(frozen=True)
class Database:
    """The service's own database, reached as its own role."""

    service: str

    def render(self, target: Target) -> str:
        return target.database_url(self.service)


@dataclass(frozen=True)
class KafkaServers:
    def render(self, target: Target) -> str:
        return target.kafka_servers()


@dataclass(frozen=True)
class BindHost:
    """The address a service listens on."""

    def render(self, target: Target) -> str:
        return target.bind_host()


@dataclass(frozen=True)
class Host:
    component: str

    def render(self, target: Target) -> str:
        return target.host(self.component)


@dataclass(frozen=True)
class Port:
    component: str

    def render(self, target: Target) -> str:
        return target.port(self.component)


@dataclass(frozen=True)
class Url:
    """How one service calls another, inside the system."""

    component: str

    def render(self, target: Target) -> str:
        return target.url(self.component)


@dataclass(frozen=True)
class PublicUrl:
    """What a browser, a partner or a provider calls: it appears in links and signatures."""

    component: str

    def render(self, target: Target) -> str:
        return target.public_url(self.component)


@dataclass(frozen=True)
class Secret:
    """A generated secret, by its name in deploy/.env (services.SECRETS says how it is made)."""

    name: str

    def render(self, target: Target) -> str:
        return target.secret(self.name)


@dataclass(frozen=True)
class SpanCollector:
    def render(self, target: Target) -> str:
        return target.span_collector()


@dataclass(frozen=True)
class TraceLink:
    """Where a screen links a trace id: the trace UI's page of one trace."""

    def render(self, target: Target) -> str:
        return target.trace_link()


@dataclass(frozen=True)
class Fixed:
    """A plain value; `deployed` where a real deployment differs from the local stack."""

    value: str
    deployed: str | None = None

    def render(self, target: Target) -> str:
        return target.fixed(self.value, self.value if self.deployed is None else self.deployed)


@dataclass(frozen=True)
class StandIn:
    """A provider outside Tsunagu at `real`; the local stack runs `component` in its place."""

    component: str
    real: str

    def render(self, target: Target) -> str:
        return target.stand_in(self.component, self.real)


@dataclass(frozen=True)
class Setting:
    """One environment variable. A site-specific one is the deployment's to set (its public
    address, say); the declared value is only its default."""

    name: str
    value: Value
    site_specific: bool = False

    def render(self, target: Target) -> str:
        value = self.value.render(target)
        return target.site_specific(self.name, value) if self.site_specific else value


@dataclass(frozen=True)
class Service:
    """A service as every target runs it: its name, its HTTP port, its settings."""

    name: str
    port: int
    settings: tuple[Setting, ...]

    def environment(self, target: Target) -> dict[str, str]:
        return {setting.name: setting.render(target) for setting in self.settings}


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

    def bind_host(self) -> str:
        return LOOPBACK

    def host(self, component: str) -> str:
        return LOOPBACK

    def port(self, component: str) -> str:
        return str(self._ports[component])

    def url(self, component: str) -> str:
        return f"http://{LOOPBACK}:{self._ports[component]}"

    def public_url(self, component: str) -> str:
        return self.url(component)

    def secret(self, name: str) -> str:
        return self._secret(name)

    def span_collector(self) -> str:
        return f"http://{LOOPBACK}:{self._ports['zipkin']}/api/v2/spans"

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
    Jaeger as the trace UI, the services' ports published on the host's loopback."""

    # Inside the network, by compose service name; "mail" is Mailpit's SMTP side.
    PORTS: Final[Mapping[str, int]] = {"postgres": 5432, "kafka": 9092, "mail": 1025, "jaeger": 9411}
    TRACE_UI: Final = f"http://{LOOPBACK}:16686"

    def __init__(self, service_ports: Mapping[str, int]) -> None:
        self._ports = {**service_ports, **self.PORTS}

    def database_url(self, service: str) -> str:
        password = "${" + db_password_secret(service) + "}"
        return f"postgresql://{service}:{password}@postgres:{self._ports['postgres']}/{service}"

    def kafka_servers(self) -> str:
        return f"kafka:{self._ports['kafka']}"

    def bind_host(self) -> str:
        return "0.0.0.0"

    def host(self, component: str) -> str:
        return component

    def port(self, component: str) -> str:
        return str(self._ports[component])

    def url(self, component: str) -> str:
        return f"http://{component}:{self._ports[component]}"

    def public_url(self, component: str) -> str:
        return f"http://{LOOPBACK}:{self._ports[component]}"

    def secret(self, name: str) -> str:
        return "${" + name + ":?}"

    def span_collector(self) -> str:
        return f"http://jaeger:{self._ports['jaeger']}/api/v2/spans"

    def trace_link(self) -> str:
        return f"{self.TRACE_UI}/trace/{{trace_id}}"

    def fixed(self, local: str, deployed: str) -> str:
        return deployed

    def stand_in(self, component: str, real: str) -> str:
        return real

    def site_specific(self, name: str, value: str) -> str:
        return "${" + name + ":-" + value + "}"
