"""Each service's workload: its settings (ConfigMap), Deployment, Service, PodDisruptionBudget and
migration Job. Settings come from the declaration; secrets are referenced by key, never copied."""

from typing import Any, Final

from tsunagu_stack.settings import METRICS_PORT, Service

from tsunagu_k8s.target import KAFKA_CA_DIR, KAFKA_CA_SECRET, FromConfig, FromSecret, KubernetesTarget

Manifest = dict[str, Any]

REPLICAS: Final = 2
IMAGE: Final = "ghcr.io/tsunagu/{service}"
# A uid the image creates (deploy/docker/Dockerfile); the pods never run as root.
UID: Final = 10001
RESOURCES: Final[Manifest] = {
    "requests": {"cpu": "100m", "memory": "192Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}


def labels(service: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "tsunagu",
    }


def environment(service: Service, target: KubernetesTarget) -> tuple[dict[str, str], list[Manifest]]:
    """The ConfigMap's data, and the env entries that reference Secrets."""
    config: dict[str, str] = {}
    secret_refs: list[Manifest] = []
    for name, value in service.environment(target).items():
        if isinstance(value, FromConfig):
            config[name] = value.value
        elif isinstance(value, FromSecret):
            ref = {"secretKeyRef": {"name": value.secret, "key": value.key}}
            secret_refs.append({"name": name, "valueFrom": ref})
    return config, secret_refs


def _security_context() -> Manifest:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _pod_spec(service: Service, secret_refs: list[Manifest], command: list[str] | None) -> Manifest:
    container: Manifest = {
        "name": service.name,
        "image": IMAGE.format(service=service.name),
        "envFrom": [{"configMapRef": {"name": f"{service.name}-settings"}}],
        "env": secret_refs,
        "resources": RESOURCES,
        "securityContext": _security_context(),
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - the pod's own emptyDir
            {"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True},
        ],
    }
    if command is not None:
        container["command"] = command
    return {
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "tmp", "emptyDir": {}},
            {
                "name": "kafka-ca",
                "secret": {"secretName": KAFKA_CA_SECRET, "items": [{"key": "ca.crt", "path": "ca.crt"}]},
            },
        ],
    }


def config_map(service: Service, config: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{service.name}-settings", "labels": labels(service.name, "server")},
        "data": config,
    }


def deployment(service: Service, secret_refs: list[Manifest]) -> Manifest:
    pod = _pod_spec(service, secret_refs, None)
    [container] = pod["containers"]
    container["ports"] = [
        {"name": "http", "containerPort": service.port},
        {"name": "metrics", "containerPort": int(METRICS_PORT)},
    ]
    container["readinessProbe"] = {
        "httpGet": {"path": "/readyz", "port": "http"},
        "periodSeconds": 5,
        "failureThreshold": 3,
    }
    container["livenessProbe"] = {
        "httpGet": {"path": "/healthz", "port": "http"},
        "initialDelaySeconds": 10,
        "periodSeconds": 10,
        "failureThreshold": 3,
    }
    container["startupProbe"] = {
        "httpGet": {"path": "/healthz", "port": "http"},
        "periodSeconds": 2,
        "failureThreshold": 60,
    }
    pod["terminationGracePeriodSeconds"] = 30
    # Replicas on different nodes, so that one node's loss leaves the service up.
    pod["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": labels(service.name, "server")},
        }
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service.name, "labels": labels(service.name, "server")},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": labels(service.name, "server")},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": labels(service.name, "server"),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": METRICS_PORT,
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": pod,
            },
        },
    }


def cluster_service(service: Service) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "labels": labels(service.name, "server")},
        "spec": {
            "selector": labels(service.name, "server"),
            "ports": [{"name": "http", "port": service.port, "targetPort": "http"}],
        },
    }


def disruption_budget(service: Service) -> Manifest:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": service.name, "labels": labels(service.name, "server")},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": labels(service.name, "server")}},
    }


def migration_job(service: Service, secret_refs: list[Manifest]) -> Manifest:
    """Applies the service's migrations before a rollout (the servers also apply them at start,
    under the same advisory lock, so the order of the two never matters)."""
    command = ["python", "-m", "eventkit.migrate", service.name]
    pod = _pod_spec(service, secret_refs, command)
    pod["restartPolicy"] = "OnFailure"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"{service.name}-migrate", "labels": labels(service.name, "migration")},
        "spec": {
            "backoffLimit": 6,
            "ttlSecondsAfterFinished": 86400,
            "template": {"metadata": {"labels": labels(service.name, "migration")}, "spec": pod},
        },
    }
