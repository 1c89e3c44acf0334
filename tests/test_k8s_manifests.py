"""deploy/k8s: the base is what the declaration generates, both overlays render with kustomize and
validate offline against the Kubernetes schemas, and the manifests keep the platform's rules
(replicas, probes, limits, budgets, network reach, topics from the contracts)."""

import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from tsunagu_stack.services import DECLARED, SECRETS, compose_environment, declared
from tsunagu_stack.settings import BROKER_PARTS, TRACE_VARIABLES, LocalTarget

from contracts.topics import ALL_TOPICS, DLT_SUFFIX

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
sys.path.insert(0, str(K8S))
import generate  # noqa: E402

pytestmark = pytest.mark.unit
SERVICES = [s.name for s in DECLARED]
KUBERNETES_VERSION = "1.32.0"
Manifest = dict[str, Any]


@cache
def rendered(overlay: str) -> tuple[Manifest, ...]:
    """`kubectl kustomize` of an overlay, from a copy holding a generated dev secrets.env."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (with its built-in kustomize) is needed to render deploy/k8s")
    copy = Path(tempfile.mkdtemp()) / "k8s"
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("secrets.env", "__pycache__"))
    env = subprocess.run(
        [sys.executable, ROOT / "deploy" / "compose_env.py"], capture_output=True, check=True
    )
    (copy / "overlays" / "dev" / "secrets.env").write_bytes(env.stdout)
    out = subprocess.run([kubectl, "kustomize", copy / "overlays" / overlay], capture_output=True, check=True)
    return tuple(m for m in yaml.safe_load_all(out.stdout) if m)


def of_kind(overlay: str, kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in rendered(overlay) if m["kind"] == kind}


def test_the_base_is_what_the_declaration_generates() -> None:
    for name, text in generate.render().items():
        assert (K8S / "base" / name).read_text(encoding="utf-8") == text, f"stale {name}: run generate.py"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_core_object_of_each_overlay_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    core = [
        m
        for m in rendered(overlay)
        if "." not in m["apiVersion"].split("/")[0] or m["apiVersion"].endswith(".k8s.io/v1")
    ]
    assert {m["kind"] for m in core} >= {
        "Deployment",
        "Service",
        "ConfigMap",
        "PodDisruptionBudget",
        "Job",
        "NetworkPolicy",
        "Ingress",
    }
    for manifest in core:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_service_runs_replicated_probed_limited_and_budgeted_with_a_migration_job(overlay: str) -> None:
    deployments, budgets, jobs = (of_kind(overlay, k) for k in ("Deployment", "PodDisruptionBudget", "Job"))
    assert set(deployments) == set(budgets) == set(SERVICES)
    assert set(jobs) == {f"{s}-migrate" for s in SERVICES}
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert set(container["resources"]) == {"requests", "limits"}
        assert container["ports"] == [
            {"name": "http", "containerPort": declared(name).port},
            {"name": "metrics", "containerPort": 9090},
        ]
        assert budgets[name]["spec"]["minAvailable"] == 1
        [migrate] = jobs[f"{name}-migrate"]["spec"]["template"]["spec"]["containers"]
        assert migrate["command"] == ["python", "-m", "eventkit.migrate", name]


def _egress_peers(policy: Manifest) -> list[str]:
    peers = []
    for rule in policy["spec"]["egress"]:
        for peer in rule["to"]:
            if "ipBlock" in peer:
                peers.append("internet")
            elif (
                peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                == "kube-system"
            ):
                peers.append("dns")
            else:
                pods = peer["podSelector"]["matchLabels"]
                peers.append(
                    pods.get("cnpg.io/cluster")
                    or pods.get("strimzi.io/cluster")
                    or pods["app.kubernetes.io/name"]
                )
    return sorted(peers)


def test_each_service_reaches_only_its_database_the_broker_and_the_collector_and_only_notify_the_internet() -> (
    None
):
    policies = of_kind("prod", "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for service in SERVICES:
        expected = ["dns", f"{service}-db", "otel-collector", "tsunagu"]
        if service == "web":  # the screens call the four APIs
            expected += ["directory", "intake", "notify", "referral"]
        if service == "notify":
            expected.append("internet")
        assert _egress_peers(policies[service]) == sorted(expected), service
        assert _egress_peers(policies[f"{service}-migrate"]) == sorted(["dns", f"{service}-db"])


def test_the_topics_are_the_contracts_with_production_replication_and_retention() -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind("prod", "KafkaTopic").values()}
    assert topics.keys() == {t.name for t in ALL_TOPICS}
    for spec in ALL_TOPICS:
        topic = topics[spec.name]
        assert topic["partitions"] == spec.partitions and topic["replicas"] == 3
        assert topic["config"]["min.insync.replicas"] == "2"
        days = 365 if spec.name.endswith(DLT_SUFFIX) else 7
        assert topic["config"]["retention.ms"] == str(days * 86_400_000)
    dev = [t["spec"] for t in of_kind("dev", "KafkaTopic").values()]
    assert {(t["replicas"], t["config"]["min.insync.replicas"]) for t in dev} == {(1, "1")}


def test_each_service_has_its_database_and_its_own_broker_principal() -> None:
    clusters, users = of_kind("prod", "Cluster"), of_kind("prod", "KafkaUser")
    assert set(clusters) == {f"{s}-db" for s in SERVICES} and set(users) == set(SERVICES)
    for service in SERVICES:
        assert clusters[f"{service}-db"]["spec"]["bootstrap"]["initdb"] == {
            "database": service,
            "owner": service,
        }
    # Only referral may write referral's facts: no one else can forge them on the broker.
    writers = {
        name
        for name, user in users.items()
        for acl in user["spec"]["authorization"]["acls"]
        if acl["resource"]["name"] == "referral.referrals.v1" and "Write" in acl["operations"]
    }
    assert writers == {"referral"}


def _k8s_names(service: str) -> set[str]:
    [deployment] = [d for n, d in of_kind("prod", "Deployment").items() if n == service]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    config = of_kind("prod", "ConfigMap")[f"{service}-settings"]["data"]
    return set(config) | {entry["name"] for entry in container["env"]}


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_compose_and_the_local_stack_name_the_same_settings(service: str) -> None:
    names = {s.name for s in declared(service).settings}
    broker = {f"{service.upper()}_KAFKA_{part.upper()}" for part in BROKER_PARTS}
    zipkin, otlp = TRACE_VARIABLES["zipkin_endpoint"], TRACE_VARIABLES["otlp_endpoint"]
    # Each leaves unset only what its platform has no use for: the open local and compose
    # brokers need no credentials, and each exports spans in its backend's one protocol.
    assert _k8s_names(service) == names - {zipkin}
    assert set(compose_environment(declared(service))) == names - broker - {zipkin}
    local = LocalTarget(defaultdict(lambda: 1), lambda name: "secret", lambda name: "postgresql://db")
    # ... and the local stack's services open /metrics on loopback (its Prometheus is optional).
    assert set(declared(service).environment(local)) == names - broker - {otlp}


def test_the_secrets_the_manifests_reference_are_the_ones_compose_env_generates() -> None:
    generated = {name for spec in SECRETS for name in spec.names}
    secret = of_kind("dev", "Secret")["tsunagu-secrets"]
    assert set(secret["data"]) == generated
    referenced = {
        entry["valueFrom"]["secretKeyRef"]["key"]
        for deployment in of_kind("prod", "Deployment").values()
        for entry in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        if entry["valueFrom"]["secretKeyRef"]["name"] == "tsunagu-secrets"
    }
    assert referenced <= generated
