"""Each service's environment, declared once: the local stack renders it, compose.yaml is checked
against it (tests/test_deploy_consistency.py), deploy/k8s/generate.py writes the Kubernetes
ConfigMaps and Secret keys from it, and deploy/compose_env.py generates its secrets.

What a value *is* (its own database, another service's URL, a generated secret) is written here;
what that is on the local stack or in compose is settings.py's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from tsunagu_stack.settings import (
    BROKER_PARTS,
    TRACE_VARIABLES,
    BindHost,
    BrokerAccess,
    ComposeTarget,
    Database,
    Fixed,
    Host,
    KafkaServers,
    MetricsPort,
    Port,
    PublicUrl,
    Secret,
    Service,
    Setting,
    StandIn,
    TraceLink,
    Traces,
    Url,
    db_password_secret,
)

# Acknowledgement deadlines of the local stack, in seconds: short on purpose, so that a newcomer
# sees an ignored handoff move to the next organisation (S3) and the e2e suite stays fast (its
# escalation test uses S4). The service's own defaults are the issue's: 600 / 1800 / one business day.
DEMO_DEADLINES: Final[Mapping[str, str]] = {
    "REFERRAL_DEADLINE_S4_S": "20",
    "REFERRAL_DEADLINE_S3_S": "120",
}
# What compose.yaml sets instead, the services' defaults made explicit.
DEPLOYED_DEADLINES: Final[Mapping[str, str]] = {
    "REFERRAL_DEADLINE_S4_S": "600",
    "REFERRAL_DEADLINE_S3_S": "1800",
}


def _service(name: str, port: int, *own: Setting) -> Service:
    """What every service is given, then its own settings, then its traces' destination."""
    prefix = name.upper()
    return Service(
        name,
        port,
        (
            Setting(f"{prefix}_DATABASE_URL", Database(name)),
            Setting(f"{prefix}_KAFKA_BOOTSTRAP_SERVERS", KafkaServers()),
            # Each service is its own principal on the broker, allowed only its own topics.
            *(Setting(f"{prefix}_KAFKA_{part.upper()}", BrokerAccess(name, part)) for part in BROKER_PARTS),
            Setting(f"{prefix}_HTTP_HOST", BindHost()),
            Setting(f"{prefix}_HTTP_PORT", Port(name)),
            Setting(f"{prefix}_METRICS_PORT", MetricsPort(name)),
            Setting(f"{prefix}_AUTH_PUBLIC_KEY", Secret("AUTH_PUBLIC_KEY")),
            *own,
            # Development mode on this machine only: weak secrets accepted, cookies over plain http.
            Setting("TSUNAGU_DEVELOPMENT_MODE", Fixed("true", deployed="false")),
            Setting("OTEL_SERVICE_NAME", Fixed(name)),
            *(Setting(variable, Traces(part)) for part, variable in TRACE_VARIABLES.items()),
        ),
    )


def _secret(name: str) -> Setting:
    """A variable filled with the generated secret of the same name in deploy/.env."""
    return Setting(name, Secret(name))


def _deadline(name: str) -> Setting:
    return Setting(name, Fixed(DEMO_DEADLINES[name], deployed=DEPLOYED_DEADLINES[name]))


# In start-up order: the screens last, once the APIs they call are there.
DECLARED: Final[tuple[Service, ...]] = (
    _service(
        "intake",
        8101,
        _secret("INTAKE_ENCRYPTION_KEYS"),
        # The providers' shared secrets; the URL they call (and sign) is the public one.
        _secret("INTAKE_TWILIO_AUTH_TOKEN"),
        _secret("INTAKE_LINE_CHANNEL_SECRET"),
        _secret("INTAKE_LINE_CHANNEL_ACCESS_TOKEN"),
        Setting("INTAKE_LINE_API_BASE_URL", StandIn("line-api", "https://api.line.me"), site_specific=True),
        Setting("INTAKE_PUBLIC_BASE_URL", PublicUrl("intake"), site_specific=True),
    ),
    _service(
        "referral",
        8102,
        # notify signs acknowledgement links with the private half; referral verifies them.
        Setting("REFERRAL_LINK_VERIFY_KEY", Secret("LINK_VERIFY_KEY")),
        # Seals the notes partners and operators write about a case.
        _secret("REFERRAL_ENCRYPTION_KEYS"),
        _deadline("REFERRAL_DEADLINE_S4_S"),
        _deadline("REFERRAL_DEADLINE_S3_S"),
    ),
    _service("directory", 8103),
    _service(
        "notify",
        8104,
        _secret("NOTIFY_ENCRYPTION_KEYS"),
        Setting("NOTIFY_PUBLIC_BASE_URL", PublicUrl("notify")),
        Setting("NOTIFY_LINK_SIGNING_KEY", Secret("LINK_SIGNING_KEY")),
        Setting("NOTIFY_REFERRAL_PUBLIC_URL", PublicUrl("referral")),
        Setting("NOTIFY_SMTP_HOST", Host("mail")),
        Setting("NOTIFY_SMTP_PORT", Port("mail")),
        Setting(
            "NOTIFY_SMTP_FROM",
            Fixed("Tsunagu (local) <noreply@tsunagu.invalid>", deployed="Tsunagu <noreply@tsunagu.invalid>"),
        ),
        # Pages link to the operators' dashboard to be acknowledged; they repeat until then.
        Setting("NOTIFY_DASHBOARD_URL", PublicUrl("web")),
        Setting("NOTIFY_PAGING_REPEAT_S", Fixed("300")),
        Setting("NOTIFY_PAGING_S4_ACK_LIMIT_S", Fixed("900")),
    ),
    _service(
        "web",
        8100,
        # The screens are the identity provider: the one process that holds the private key.
        Setting("WEB_AUTH_SIGNING_KEY", Secret("AUTH_SIGNING_KEY")),
        *(
            Setting(f"WEB_{api.upper()}_URL", Url(api))
            for api in ("intake", "referral", "directory", "notify")
        ),
        Setting("WEB_TRACE_URL_TEMPLATE", TraceLink()),
    ),
)


def declared(name: str) -> Service:
    for service in DECLARED:
        if service.name == name:
            return service
    raise ValueError(f"unknown service {name!r}; one of {', '.join(s.name for s in DECLARED)}")


def compose_environment(service: Service) -> dict[str, str]:
    """The service's `environment:` in deploy/compose.yaml, as the declaration renders it."""
    return service.environment(ComposeTarget({s.name: s.port for s in DECLARED}))


@dataclass(frozen=True)
class SecretSpec:
    """A generated secret: the names it fills in deploy/.env (a key pair fills two, private then
    public), how it is made, and where the local stack keeps it in .stack/secrets.json."""

    names: tuple[str, ...]
    kind: Literal["keypair", "keyring", "token"]
    stored: tuple[str, str]  # (section, key)


# In the order deploy/compose_env.py prints them.
SECRETS: Final[tuple[SecretSpec, ...]] = (
    SecretSpec(("AUTH_SIGNING_KEY", "AUTH_PUBLIC_KEY"), "keypair", ("auth", "signing_keypair")),
    SecretSpec(("INTAKE_ENCRYPTION_KEYS",), "keyring", ("encryption_keys", "intake")),
    SecretSpec(("NOTIFY_ENCRYPTION_KEYS",), "keyring", ("encryption_keys", "notify")),
    SecretSpec(("REFERRAL_ENCRYPTION_KEYS",), "keyring", ("encryption_keys", "referral")),
    # The voice provider's auth token and the LINE channel's secret and access token: a real
    # deployment replaces these with the providers' own; generated ones only let the stack start.
    SecretSpec(("INTAKE_TWILIO_AUTH_TOKEN",), "token", ("channels", "twilio_auth_token")),
    SecretSpec(("INTAKE_LINE_CHANNEL_SECRET",), "token", ("channels", "line_channel_secret")),
    SecretSpec(("INTAKE_LINE_CHANNEL_ACCESS_TOKEN",), "token", ("channels", "line_channel_access_token")),
    SecretSpec(("LINK_SIGNING_KEY", "LINK_VERIFY_KEY"), "keypair", ("links", "signing_keypair")),
    SecretSpec(("POSTGRES_PASSWORD",), "token", ("postgres", "superuser")),
    *(SecretSpec((db_password_secret(s.name),), "token", ("postgres", s.name)) for s in DECLARED),
)


def secret_spec(name: str) -> tuple[SecretSpec, int]:
    """The secret that fills `name`, and which of its parts it is."""
    for spec in SECRETS:
        if name in spec.names:
            return spec, spec.names.index(name)
    raise ValueError(f"no generated secret is called {name!r}")
