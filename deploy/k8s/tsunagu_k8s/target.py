"""The Kubernetes target of the declared settings: each value is either plain configuration (the
service's ConfigMap) or a key of a Secret, which the Deployment references and never copies.

Where things are in a cluster: the databases are CloudNativePG clusters `<service>-db`, whose
operator writes the connection URI into `<service>-db-app`; the broker is the Strimzi cluster
`tsunagu` (TLS listener, SCRAM-SHA-512 users named after the services, whose passwords Strimzi
writes into Secrets of the same names); spans go over OTLP/HTTP to an OpenTelemetry collector.
Public addresses, the trace UI and the SMTP relay are site-specific: the overlays replace them.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from tsunagu_stack.settings import METRICS_PORT, BrokerPart, TracePart

# The one Secret of generated keys and tokens (`python deploy/compose_env.py` makes them).
APP_SECRET: Final = "tsunagu-secrets"  # noqa: S105 - the Secret's name
KAFKA_CLUSTER: Final = "tsunagu"
# Strimzi's CA of the cluster, mounted where the services' ssl_cafile points.
KAFKA_CA_SECRET: Final = f"{KAFKA_CLUSTER}-cluster-ca-cert"
KAFKA_CA_DIR: Final = "/etc/tsunagu/kafka-ca"
KAFKA_TLS_PORT: Final = 9093
COLLECTOR_NAMESPACE: Final = "observability"
COLLECTOR_NAME: Final = "otel-collector"
COLLECTOR_OTLP_HTTP_PORT: Final = 4318
SMTP_PORT: Final = 587
SITE_DOMAIN: Final = "tsunagu.example"


def database_cluster(service: str) -> str:
    return f"{service}-db"


@dataclass(frozen=True)
class FromConfig:
    value: str


@dataclass(frozen=True)
class FromSecret:
    secret: str
    key: str


K8sValue = FromConfig | FromSecret


class KubernetesTarget:
    """Services by name on the cluster network (a Service per Deployment, same port)."""

    def __init__(self, service_ports: Mapping[str, int]) -> None:
        self._ports = {**service_ports, "mail": SMTP_PORT}

    def database_url(self, service: str) -> K8sValue:
        return FromSecret(f"{database_cluster(service)}-app", "uri")

    def kafka_servers(self) -> K8sValue:
        return FromConfig(f"{KAFKA_CLUSTER}-kafka-bootstrap:{KAFKA_TLS_PORT}")

    def broker_access(self, service: str, part: BrokerPart) -> K8sValue | None:
        access: dict[BrokerPart, K8sValue] = {
            "security_protocol": FromConfig("SASL_SSL"),
            "sasl_mechanism": FromConfig("SCRAM-SHA-512"),
            "sasl_username": FromConfig(service),
            "sasl_password": FromSecret(service, "password"),
            "ssl_cafile": FromConfig(f"{KAFKA_CA_DIR}/ca.crt"),
        }
        return access[part]

    def bind_host(self) -> K8sValue:
        # Inside the pod; the NetworkPolicies decide who may connect.
        return FromConfig("0.0.0.0")

    def host(self, component: str) -> K8sValue:
        return FromConfig(f"smtp.{SITE_DOMAIN}" if component == "mail" else component)

    def port(self, component: str) -> K8sValue:
        return FromConfig(str(self._ports[component]))

    def metrics_port(self, component: str) -> K8sValue | None:
        return FromConfig(METRICS_PORT)

    def url(self, component: str) -> K8sValue:
        return FromConfig(f"http://{component}:{self._ports[component]}")

    def public_url(self, component: str) -> K8sValue:
        return FromConfig(f"https://{component}.{SITE_DOMAIN}")

    def secret(self, name: str) -> K8sValue:
        return FromSecret(APP_SECRET, name)

    def traces(self, part: TracePart) -> K8sValue | None:
        collector = f"http://{COLLECTOR_NAME}.{COLLECTOR_NAMESPACE}:{COLLECTOR_OTLP_HTTP_PORT}"
        return {
            "exporter": FromConfig("otlp"),
            "zipkin_endpoint": None,
            "otlp_endpoint": FromConfig(collector),
        }[part]

    def trace_link(self) -> K8sValue:
        return FromConfig(f"https://traces.{SITE_DOMAIN}/trace/{{trace_id}}")

    def fixed(self, local: str, deployed: str) -> K8sValue:
        return FromConfig(deployed)

    def stand_in(self, component: str, real: str) -> K8sValue:
        return FromConfig(real)

    def site_specific(self, name: str, value: K8sValue) -> K8sValue:
        return value
