"""The screens are configured with the same names by compose and by the local stack."""

from pathlib import Path

import pytest
import yaml

from eventkit.testing import load_stack_module, repo_root
from web.config import Settings

pytestmark = pytest.mark.unit

COMPOSE = yaml.safe_load((repo_root(Path(__file__)) / "deploy" / "compose.yaml").read_text(encoding="utf-8"))


def _names(env: dict[str, str]) -> set[str]:
    return {k for k in env if k.startswith(("WEB_", "OTEL_"))}


def test_compose_and_the_local_stack_configure_web_with_the_same_names() -> None:
    stack = load_stack_module().Stack()
    assert _names(COMPOSE["services"]["web"]["environment"]) == _names(stack.service_env("web"))


def test_every_required_setting_of_web_is_set_by_compose() -> None:
    required = {f"WEB_{name}".upper() for name, field in Settings.model_fields.items() if field.is_required()}
    assert required <= set(COMPOSE["services"]["web"]["environment"])


def test_only_web_is_given_the_private_signing_key() -> None:
    stack = load_stack_module().Stack()
    for name in ("intake", "referral", "directory", "notify"):
        assert not any("AUTH_SIGNING_KEY" in key for key in COMPOSE["services"][name]["environment"])
        assert not any(key.startswith("WEB_") for key in stack.service_env(name))
    assert "WEB_AUTH_SIGNING_KEY" in stack.service_env("web")


def test_the_demo_sign_ins_cover_a_counsellor_an_operator_and_each_sample_partner() -> None:
    users = load_stack_module().Stack().web_users()
    roles = [u["role"] for u in users]
    assert roles.count("counsellor") == 1 and roles.count("operator") == 1
    partners = [u for u in users if u["role"] == "partner"]
    assert len(partners) == 8 and len({u["organisation_id"] for u in partners}) == 8
    assert all(len(u["password"]) >= 12 for u in users)
