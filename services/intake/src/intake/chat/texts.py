"""What the bot says to a person, in each `Language`: read once from the catalogues
`texts/<code>.json` (the sentences are data, kept whole to read and translate; `language.py` has
their shape). The numbers to call in a crisis are the same in every language: a catalogue's
`crisis` says `{numbers}` where they go."""

import json
from pathlib import Path
from typing import Any

from intake.chat.language import Farewell, Language, Texts
from intake.consent.domain import ConsentItem

NUMBERS = "110 / 119 / #9999 (0120-494-949)"
TEXTS_DIR = Path(__file__).parent / "texts"


def load_texts(language: Language) -> Texts:
    """One language's catalogue; a missing or unknown sentence fails here, at start-up."""
    said: dict[str, Any] = json.loads((TEXTS_DIR / f"{language.value}.json").read_text(encoding="utf-8"))
    return Texts(
        **{
            **said,
            "consent_items": {ConsentItem(item): text for item, text in said["consent_items"].items()},
            "handoff_when": {Farewell(when): text for when, text in said["handoff_when"].items()},
            "crisis": said["crisis"].format(numbers=NUMBERS),
        }
    )


TEXTS: dict[Language, Texts] = {language: load_texts(language) for language in Language}
