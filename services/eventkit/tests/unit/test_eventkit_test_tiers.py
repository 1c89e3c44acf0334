"""Every test has one tier, so `make test`'s `-m "unit or integration or e2e"` misses none: a test in
a folder named after a tier is of that tier, and a test with no tier stops the run."""

import subprocess
import sys
from pathlib import Path

INI = """[pytest]
markers =
    unit: u
    integration: i
    e2e: e
"""


def _collect(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "eventkit.testing",
            "-c",
            str(root / "pytest.ini"),
            "--rootdir",
            str(root),
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *args,
            str(root),
        ],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )


def _tree(root: Path, files: dict[str, str]) -> None:
    (root / "pytest.ini").write_text(INI)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_a_test_in_a_tier_folder_is_selected_by_that_tier_without_a_marker(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "svc/tests/unit/test_a.py": "def test_a(): pass\n",
            "svc/tests/integration/test_b.py": "def test_b(): pass\n",
            "tests/test_c.py": "import pytest\npytestmark = pytest.mark.e2e\ndef test_c(): pass\n",
        },
    )
    unit = _collect(tmp_path, "-m", "unit")
    integration = _collect(tmp_path, "-m", "integration")
    assert unit.returncode == 0, unit.stdout + unit.stderr
    assert "test_a.py::test_a" in unit.stdout and "test_b" not in unit.stdout
    assert "test_b.py::test_b" in integration.stdout and "test_a" not in integration.stdout
    assert "test_c.py::test_c" in _collect(tmp_path, "-m", "e2e").stdout


def test_a_test_outside_the_tier_folders_without_a_marker_stops_the_run(tmp_path: Path) -> None:
    _tree(tmp_path, {"tests/test_d.py": "def test_d(): pass\n"})
    run = _collect(tmp_path, "-m", "unit or integration or e2e")
    assert run.returncode != 0
    assert "tests without a unit/integration/e2e marker: tests/test_d.py::test_d" in run.stdout + run.stderr
