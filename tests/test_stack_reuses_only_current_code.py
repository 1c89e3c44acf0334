"""The local stack reuses a running service only if it runs the code as it is: a service started
before its package, eventkit or the contracts last changed is restarted, so neither `make up` nor an
end-to-end run after an edit talks to the old process."""

import os
from pathlib import Path

import pytest
from tsunagu_stack.stack import code_changed_since

pytestmark = pytest.mark.unit

STARTED = 1_800_000_000.0


def _tree(root: Path, written_at: float) -> None:
    for path in (
        "services/referral/src/referral/main.py",
        "services/referral/src/referral/__pycache__/main.cpython-311.pyc",
        "services/referral/src/tsunagu_referral.egg-info/PKG-INFO",
        "services/referral/migrations/0001_create.sql",
        "services/intake/src/intake/main.py",
        "services/eventkit/src/eventkit/consumer.py",
        "schemas/src/contracts/events.py",
    ):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("# code\n")
        os.utime(root / path, (written_at, written_at))


def _touch(root: Path, path: str, at: float) -> None:
    os.utime(root / path, (at, at))


def test_a_service_whose_code_is_older_than_its_process_runs_the_current_code(tmp_path: Path) -> None:
    _tree(tmp_path, STARTED - 60)
    assert not code_changed_since(tmp_path, "referral", STARTED)


@pytest.mark.parametrize(
    "changed",
    [
        "services/referral/src/referral/main.py",
        "services/referral/migrations/0001_create.sql",
        "services/eventkit/src/eventkit/consumer.py",
        "schemas/src/contracts/events.py",
    ],
)
def test_an_edit_to_its_package_migrations_eventkit_or_the_contracts_after_it_started_is_seen(
    tmp_path: Path, changed: str
) -> None:
    _tree(tmp_path, STARTED - 60)
    _touch(tmp_path, changed, STARTED + 5)
    assert code_changed_since(tmp_path, "referral", STARTED)


def test_another_service_s_code_compiled_files_and_install_metadata_do_not_count(tmp_path: Path) -> None:
    _tree(tmp_path, STARTED - 60)
    _touch(tmp_path, "services/intake/src/intake/main.py", STARTED + 5)
    _touch(tmp_path, "services/referral/src/referral/__pycache__/main.cpython-311.pyc", STARTED + 5)
    _touch(tmp_path, "services/referral/src/tsunagu_referral.egg-info/PKG-INFO", STARTED + 5)
    assert not code_changed_since(tmp_path, "referral", STARTED)


def test_only_the_paths_below_the_code_folders_are_judged_not_where_the_checkout_lies(tmp_path: Path) -> None:
    root = tmp_path / "__pycache__" / "old.egg-info"  # an odd place for a checkout, still a checkout
    _tree(root, STARTED - 60)
    _touch(root, "services/referral/src/referral/main.py", STARTED + 5)
    assert code_changed_since(root, "referral", STARTED)
