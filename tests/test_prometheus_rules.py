"""deploy/prometheus/rules.yaml: valid, and each alert fires and clears as its unit tests say
(`promtool test rules`, from Debian's prometheus package), on metrics the services export."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "rules.yaml"
EXPORTED = (
    ROOT / "services" / "eventkit" / "src" / "eventkit" / "metrics.py",
    ROOT / "services" / "referral" / "src" / "referral" / "main.py",
    ROOT / "services" / "notify" / "src" / "notify" / "main.py",
)


def _promtool() -> str:
    # bootstrap.sh puts one in the venv when the machine has none.
    in_venv = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "promtool"
    found = (
        os.environ.get("PROMTOOL") or shutil.which("promtool") or (str(in_venv) if in_venv.exists() else None)
    )
    if found is None:
        pytest.fail(
            "promtool is not installed: `apt-get install prometheus`, or without the daemon "
            "`apt-get download prometheus && dpkg-deb -x prometheus_*.deb x` and put x/usr/bin/promtool on PATH"
        )
    return found


def test_the_rule_file_is_valid() -> None:
    result = subprocess.run([_promtool(), "check", "rules", RULES], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_and_clears_as_its_unit_tests_expect() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", "rules_test.yaml"], cwd=RULES.parent, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_has_a_unit_test_and_uses_only_metrics_the_services_export() -> None:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    tests = yaml.safe_load((RULES.parent / "rules_test.yaml").read_text(encoding="utf-8"))["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    assert tested == {rule["alert"] for rule in rules}
    exported = "\n".join(path.read_text(encoding="utf-8") for path in EXPORTED)
    for rule in rules:
        for name in set(re.findall(r"\b(tsunagu_[a-z0-9_]+)", rule["expr"])):
            base = name.removesuffix("_total")
            assert f'"{base}"' in exported, f"{rule['alert']} uses {name}, which no service exports"


def test_the_example_scrape_configuration_is_valid_and_loads_the_rules() -> None:
    config = RULES.parent / "prometheus.yaml"
    result = subprocess.run([_promtool(), "check", "config", config], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
