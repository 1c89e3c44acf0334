"""The console labels every reason intake's severity rules can give, in both languages.

intake owns the rules and web only shows their codes (`risk.reason.<code>`), so a criterion added
to a rule table without a label would reach counsellors as a raw key. Both packages are installed
in the development environment; this is the one place that reads them side by side.
"""

import json
from importlib import resources

import pytest

from intake.risk.rules import RULE_TABLES

pytestmark = pytest.mark.unit

CODES = sorted({c.code for table in RULE_TABLES.values() for c in table.criteria})


def _catalogue(language: str) -> dict[str, str]:
    text = resources.files("web").joinpath("messages", f"{language}.json").read_text(encoding="utf-8")
    catalogue: dict[str, str] = json.loads(text)
    return catalogue


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_severity_reason_of_every_rule_table_has_a_label(language: str) -> None:
    catalogue = _catalogue(language)
    missing = [code for code in CODES if not catalogue.get(f"risk.reason.{code}", "").strip()]
    assert CODES and not missing, f"{language}.json has no label for: {missing}"


def test_the_catalogue_labels_no_reason_the_rules_do_not_have() -> None:
    # A label left behind by a removed criterion would hide that the console shows stale reasons.
    for language in ("ja", "en"):
        labelled = {
            k.removeprefix("risk.reason.") for k in _catalogue(language) if k.startswith("risk.reason.")
        }
        assert labelled <= set(CODES), f"{language}.json: {sorted(labelled - set(CODES))}"
