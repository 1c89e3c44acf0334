"""The message catalogue: every word on the screens comes from messages/<lang>.json.

Japanese is the default; English is switched with the language control and remembered in a
cookie. A missing key shows as the key itself (and a test checks that none is missing).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
LANGUAGE_COOKIE = "tsunagu_lang"
MESSAGES_DIR = Path(__file__).parent / "messages"


def load_catalogue(folder: Path = MESSAGES_DIR) -> dict[str, dict[str, str]]:
    catalogue: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        data = json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"messages/{lang}.json must be a flat object of strings")
        catalogue[lang] = data
    return catalogue


def pick_language(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    lang: str
    messages: Mapping[str, str]

    def __call__(self, key: str, **values: Any) -> str:
        text = self.messages.get(key, key)
        return text.format(**values) if values else text

    def prefixed(self, prefix: str) -> dict[str, str]:
        """The messages under a prefix, for the page's JavaScript."""
        return {k: v for k, v in self.messages.items() if k.startswith(prefix)}

    def label(self, kind: str, code: object) -> str:
        """A code's label (topic, severity, state …): `<kind>.<code>`, or the code itself."""
        key = f"{kind}.{code}"
        return self.messages.get(key, str(code))
