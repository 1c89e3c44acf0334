"""What the services stand on, as a platform runs it: topics and broker users (Strimzi), databases
(CloudNativePG), the network rules between them, and the Ingress in front of the public parts."""

from typing import Final

from tsunagu_stack.settings import METRICS_PORT, Service

from contracts.topics import ALL_TOPICS, SUBSCRIPTIONS
from eventkit.acls import grants_for
from eventkit.kafka import TopicPolicy
from tsunagu_k8s.target import (
    COLLECTOR_NAME,
    COLLECTOR_NAMESPACE,
    COLLECTOR_OTLP_HTTP_PORT,
    KAFKA_CLUSTER,
    KAFKA_TLS_PORT,
    SITE_DOMAIN,
    SMTP_PORT,
    database_cluster,
)
from tsunagu_k8s.workloads import Manifest, labels

# Production's: three replicas, two in sync; a week of events, a year of dead letters.
TOPIC_POLICY: Final = TopicPolicy(replication_factor=3, min_insync_replicas=2)
# Reached from outside, through the Ingress: the screens, the providers' webhooks and the
# partners' acknowledgement links.
PUBLIC: Final = ("web", "intake", "notify", "referral")
INGRESS_NAMESPACE: Final = "ingress-nginx"
MONITORING_NAMESPACE: Final = "monitoring"
# Private address ranges, which "the internet" excludes.
PRIVATE: Final = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16")


def kafka_topics() -> list[Manifest]:
    return [
        {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "KafkaTopic",
            "metadata": {
                "name": spec.name.replace("_", "-"),
                "labels": {"strimzi.io/cluster": KAFKA_CLUSTER},
            },
            "spec": {
                "topicName": spec.name,
                "partitions": spec.partitions,
                "replicas": TOPIC_POLICY.replication_factor,
                "config": TOPIC_POLICY.configs(spec),
            },
        }
        for spec in ALL_TOPICS
    ]


def _acl(resource_type: str, name: str, operations: list[str]) -> Manifest:
    return {
        "resource": {"type": resource_type, "name": name, "patternType": "literal"},
        "operations": operations,
    }


def kafka_user(service: str) -> Manifest:
    """The service's principal: it writes only its own topics and the dead letters of what it
    reads, so no other service can forge its events."""
    if service == "web":
        # The operator dashboard reads every topic's offsets and the groups' lag, and writes nothing.
        acls = [_acl("topic", t.name, ["Describe", "Read"]) for t in ALL_TOPICS]
        acls += [_acl("group", s, ["Describe"]) for s in SUBSCRIPTIONS]
    else:
        # The grants the SASL broker test proves (eventkit.acls), in Strimzi's spelling.
        topics: dict[str, list[str]] = {}
        for grant in grants_for(service):
            if grant.resource == "TOPIC":
                topics.setdefault(grant.name, []).append(grant.operation.capitalize())
        acls = [_acl("topic", name, sorted(operations)) for name, operations in topics.items()]
        acls += [_acl("group", service, ["Read"])]
        acls += [_acl("transactionalId", service, ["Describe", "Write"])]
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaUser",
        "metadata": {"name": service, "labels": {"strimzi.io/cluster": KAFKA_CLUSTER}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": acls},
        },
    }


def database(service: str) -> Manifest:
    """Two instances (a primary and a synchronous standby); the operator writes `<name>-app`."""
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": database_cluster(service), "labels": labels(service, "database")},
        "spec": {
            "instances": 2,
            "imageName": "ghcr.io/cloudnative-pg/postgresql:17",
            "bootstrap": {"initdb": {"database": service, "owner": service}},
            "storage": {"size": "10Gi"},
            "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
            "minSyncReplicas": 1,
            "maxSyncReplicas": 1,
        },
    }


def _peer(pod_labels: dict[str, str], port: int, namespace: str | None = None) -> Manifest:
    peer: Manifest = {"podSelector": {"matchLabels": pod_labels}}
    if namespace is not None:
        peer["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    return {"to": [peer], "ports": [{"protocol": "TCP", "port": port}]}


def _dns() -> Manifest:
    peer = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    return {"to": [peer], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}


def _database_egress(service: str) -> Manifest:
    return _peer({"cnpg.io/cluster": database_cluster(service)}, 5432)


def default_deny() -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def network_policy(service: Service, services: tuple[Service, ...]) -> Manifest:
    """Its database, the broker, the trace collector and DNS; the screens also call the APIs, and
    notify alone reaches the internet (partners' webhooks, the SMTP relay)."""
    egress = [
        _dns(),
        _database_egress(service.name),
        _peer({"strimzi.io/cluster": KAFKA_CLUSTER, "strimzi.io/kind": "Kafka"}, KAFKA_TLS_PORT),
        _peer({"app.kubernetes.io/name": COLLECTOR_NAME}, COLLECTOR_OTLP_HTTP_PORT, COLLECTOR_NAMESPACE),
    ]
    if service.name == "web":
        egress += [_peer(labels(s.name, "server"), s.port) for s in services if s.name != "web"]
    if service.name == "notify":
        internet = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE)}}]
        egress.append({"to": internet, "ports": [{"protocol": "TCP", "port": p} for p in (443, SMTP_PORT)]})
    callers: list[Manifest] = []
    if service.name in PUBLIC:
        callers.append(
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": INGRESS_NAMESPACE}}}
        )
    if service.name != "web":
        callers.append({"podSelector": {"matchLabels": labels("web", "server")}})
    ingress = [{"from": callers, "ports": [{"protocol": "TCP", "port": service.port}]}]
    # /metrics, on its own port, for Prometheus alone.
    prometheus = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}
    ingress.append({"from": [prometheus], "ports": [{"protocol": "TCP", "port": int(METRICS_PORT)}]})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": service.name, "labels": labels(service.name, "server")},
        "spec": {
            "podSelector": {"matchLabels": labels(service.name, "server")},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def migration_network_policy(service: str) -> Manifest:
    """A migration Job reaches its database and nothing else."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{service}-migrate", "labels": labels(service, "migration")},
        "spec": {
            "podSelector": {"matchLabels": labels(service, "migration")},
            "policyTypes": ["Ingress", "Egress"],
            "egress": [_dns(), _database_egress(service)],
        },
    }


def ingress(services: tuple[Service, ...]) -> Manifest:
    """TLS in front of the public parts (a cert-manager issuer named in the overlay's annotation)."""
    public = [s for s in services if s.name in PUBLIC]
    hosts = [f"{s.name}.{SITE_DOMAIN}" for s in public]
    rules = [
        {
            "host": host,
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": s.name, "port": {"number": s.port}}},
                    }
                ]
            },
        }
        for s, host in zip(public, hosts, strict=True)
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "tsunagu", "annotations": {"nginx.ingress.kubernetes.io/ssl-redirect": "true"}},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": hosts, "secretName": "tsunagu-tls"}],
            "rules": rules,
        },
    }
