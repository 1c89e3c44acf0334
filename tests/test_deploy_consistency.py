"""compose.yaml, compose_env.py and the local stack configure the services from one declaration
(deploy/local/tsunagu_stack/services.py).

The unit tests read only the repository's files. The local stack's own rendering writes generated
secrets, so those tests give it a temporary state folder, never the shared `.stack/`.
"""

import importlib
import re
import stat
from pathlib import Path

import pytest
import yaml
from stack_plugin import local_stack
from tsunagu_stack.services import DECLARED, SECRETS, compose_environment, declared
from tsunagu_stack.settings import BROKER_PARTS, TRACE_VARIABLES, db_password_secret

from contracts.topics import ALL_TOPICS, EVENT_TOPICS

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_TEXT = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = [service.name for service in DECLARED]


def _required_settings(service: str) -> set[str]:
    settings = importlib.import_module(f"{service}.config").Settings
    prefix = settings.model_config["env_prefix"]
    return {(prefix + name).upper() for name, field in settings.model_fields.items() if field.is_required()}


def _own_names(env: dict[str, str], service: str) -> set[str]:
    shared = ("OTEL_", "TSUNAGU_DEVELOPMENT_MODE")
    return {k for k in env if k.startswith(service.upper() + "_") or k.startswith(shared)}


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_compose_gives_each_service_exactly_its_declared_environment(service: str) -> None:
    composed = {name: str(value) for name, value in COMPOSE["services"][service]["environment"].items()}
    assert composed == compose_environment(declared(service))


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_compose_publishes_each_service_on_its_declared_port_on_loopback_only(service: str) -> None:
    port = declared(service).port
    assert COMPOSE["services"][service]["ports"] == [f"127.0.0.1:{port}:{port}"]


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_every_required_setting_of_each_service_is_declared(service: str) -> None:
    declared_names = {setting.name for setting in declared(service).settings}
    assert _required_settings(service) <= declared_names


@pytest.mark.unit
def test_only_web_is_declared_the_private_signing_key() -> None:
    holders = {
        service.name
        for service in DECLARED
        if any("SIGNING_KEY" in setting.name and "AUTH" in setting.name for setting in service.settings)
    }
    assert holders == {"web"}


@pytest.mark.unit
def test_compose_env_generates_exactly_the_secrets_compose_requires() -> None:
    generated = {name for spec in SECRETS for name in spec.names}
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE_TEXT))
    referenced = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE_TEXT))
    assert required <= generated
    # Site-specific settings (`${NAME:-default}`) are the operator's; every generated one is used.
    assert generated <= referenced


@pytest.mark.unit
def test_compose_creates_each_services_database_role_with_its_generated_password() -> None:
    postgres = COMPOSE["services"]["postgres"]["environment"]
    assert {db_password_secret(name) for name in SERVICES} | {"POSTGRES_PASSWORD"} == set(postgres)


@pytest.mark.unit
def test_compose_creates_the_topics_from_the_contracts() -> None:
    assert COMPOSE["services"]["topics"]["command"] == ["python", "-m", "eventkit.topics"]
    assert len(ALL_TOPICS) == 2 * len(EVENT_TOPICS)
    assert COMPOSE["services"]["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


@pytest.mark.integration
@pytest.mark.parametrize("service", SERVICES)
def test_the_local_stack_starts_each_service_with_its_declared_settings_and_none_of_another_services(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for other in SERVICES:
        monkeypatch.setenv(f"{other.upper()}_STRAY_SETTING", "from the developer's shell")
    stack = local_stack(state_dir=tmp_path / "stack")

    env = stack.service_env(service)

    # The local broker takes anyone and its trace backend is Zipkin: those settings stay unset.
    unset_locally = {f"{service.upper()}_KAFKA_{part.upper()}" for part in BROKER_PARTS}
    unset_locally |= {TRACE_VARIABLES["otlp_endpoint"]}
    declared_names = {setting.name for setting in declared(service).settings} - unset_locally
    assert _own_names(env, service) == declared_names | {f"{service.upper()}_STRAY_SETTING"}
    assert env[TRACE_VARIABLES["exporter"]] == "zipkin"
    foreign = tuple(f"{other.upper()}_" for other in SERVICES if other != service)
    assert not [name for name in env if name.startswith(foreign)]
    assert env[f"{service.upper()}_HTTP_PORT"] == str(stack.ports[service])
    # /metrics on loopback, 1000 ports above the service (where `make up PROMETHEUS=1` scrapes).
    assert env[f"{service.upper()}_METRICS_PORT"] == str(stack.ports[service] + 1000)
    secrets = tmp_path / "stack" / "secrets.json"
    assert secrets.exists() and stat.S_IMODE(secrets.stat().st_mode) == 0o600


@pytest.mark.integration
def test_the_demo_sign_ins_cover_a_counsellor_an_operator_and_each_sample_partner(tmp_path: Path) -> None:
    users = local_stack(state_dir=tmp_path / "stack").web_users()
    roles = [u["role"] for u in users]
    assert roles.count("counsellor") == 1 and roles.count("operator") == 1
    partners = [u for u in users if u["role"] == "partner"]
    assert len(partners) == 8 and len({u["organisation_id"] for u in partners}) == 8
    assert all(len(u["password"]) >= 12 for u in users)
    assert (tmp_path / "stack" / "secrets.json").exists()
