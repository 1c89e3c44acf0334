"""compose.yaml and the local stack configure the services with the same names."""

import importlib
from pathlib import Path

import pytest
import yaml

from contracts.topics import ALL_TOPICS, EVENT_TOPICS
from eventkit.testing import load_stack_module

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "referral", "directory", "notify")
COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))


def _required_env(service: str) -> set[str]:
    settings = importlib.import_module(f"{service}.config").Settings
    prefix = settings.model_config["env_prefix"]
    return {(prefix + name).upper() for name, field in settings.model_fields.items() if field.is_required()}


def _own_names(env: dict[str, str], service: str) -> set[str]:
    return {k for k in env if k.startswith(service.upper() + "_") or k.startswith("OTEL_")}


@pytest.mark.parametrize("service", SERVICES)
def test_compose_sets_every_required_setting_of_each_service(service: str) -> None:
    env = COMPOSE["services"][service]["environment"]
    assert _required_env(service) <= set(env)


@pytest.mark.parametrize("service", SERVICES)
def test_compose_and_the_local_stack_use_the_same_configuration_names(service: str) -> None:
    stack = load_stack_module().Stack()
    local = _own_names(stack.service_env(service), service)
    composed = _own_names(COMPOSE["services"][service]["environment"], service)
    assert composed == local


def test_compose_creates_the_topics_from_the_contracts() -> None:
    assert COMPOSE["services"]["topics"]["command"] == ["python", "-m", "eventkit.topics"]
    assert len(ALL_TOPICS) == 2 * len(EVENT_TOPICS)
    assert COMPOSE["services"]["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
