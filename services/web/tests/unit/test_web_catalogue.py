"""Every word on the screens comes from the catalogue, in both languages."""

import re
from pathlib import Path

import pytest

from contracts.vocabulary import AgeBand, Gender, IssueTag, LawfulBasis, Severity, Topic
from web import risk
from web.i18n import Translator, load_catalogue, pick_language

WEB = Path(__file__).resolve().parents[2] / "src" / "web"
CATALOGUE = load_catalogue()


def test_japanese_and_english_have_the_same_keys() -> None:
    assert set(CATALOGUE["ja"]) == set(CATALOGUE["en"])


def test_every_key_the_templates_and_scripts_name_exists() -> None:
    keys: set[str] = set()
    for path in [*WEB.glob("templates/**/*.html"), *WEB.glob("*.py")]:
        # A whole key (a prefix joined with `~` is checked with its codes below).
        keys |= set(re.findall(r"\bt\(\s*[\"']([a-z0-9_.]+)[\"']\s*[,)]", path.read_text(encoding="utf-8")))
    for path in WEB.glob("static/*.js"):
        found = re.findall(r"T\.t\(\"([a-z0-9_.]+)\"\s*[,)]", path.read_text(encoding="utf-8"))
        keys |= set(found)
    missing = sorted(k for k in keys if k not in CATALOGUE["ja"])
    assert missing == []


@pytest.mark.parametrize(
    ("kind", "codes"),
    [
        ("topic", [t.value for t in Topic]),
        ("severity", [s.value for s in Severity]),
        ("tag", [t.value for t in IssueTag]),
        ("basis", [b.value for b in LawfulBasis]),
        ("age", [a.value for a in AgeBand]),
        ("gender", [g.value for g in Gender]),
        ("cssrs", list(risk.CSSRS)),
        ("risk.flag", [*risk.FLAGS, *risk.TRISTATE]),
        ("protective", list(risk.PROTECTIVE_FACTORS)),
    ],
)
def test_every_code_the_screens_show_has_a_label_in_both_languages(kind: str, codes: list[str]) -> None:
    for lang in ("ja", "en"):
        assert [c for c in codes if f"{kind}.{c}" not in CATALOGUE[lang]] == []


def test_japanese_is_the_default_and_english_is_chosen_by_cookie() -> None:
    assert pick_language(None) == "ja"
    assert pick_language("fr") == "ja"
    assert pick_language("en") == "en"


def test_a_message_takes_its_values_and_an_unknown_key_shows_itself() -> None:
    t = Translator("en", CATALOGUE["en"])
    assert t("ops.dir.count", count=3) == "3 organisations"
    assert t("no.such.key") == "no.such.key"
    assert t.label("topic", "LONELY") == "Loneliness or isolation"
    assert t.label("topic", "NEW_TOPIC") == "NEW_TOPIC"
