"""The languages a person may chat in, and the shape of what the bot says in each. Pure: no I/O.

The texts themselves are in the catalogues `texts/<code>.json`, read by `texts.py`. The numbers are
the same in every language.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from contracts.vocabulary import Severity
from intake.consent.domain import ConsentItem


class Language(StrEnum):
    """ISO 639-1 codes, as consultations and events carry them (Filipino is written as Tagalog, tl)."""

    JA = "ja"
    EN = "en"
    ZH = "zh"
    KO = "ko"
    VI = "vi"
    PT = "pt"
    ES = "es"
    TL = "tl"
    NE = "ne"


def language_of(code: str | None) -> Language:
    """The chat's language for a code; one we have no texts for is answered in Japanese."""
    try:
        return Language((code or "").strip().lower())
    except ValueError:
        return Language.JA


class Farewell(StrEnum):
    """Which closing message a chat ended with: a handoff's (by how soon the organisation must
    answer, which follows the severity) or where to turn next."""

    HANDOFF_S4 = "handoff_s4"
    HANDOFF_S3 = "handoff_s3"
    HANDOFF_S2 = "handoff_s2"
    NEXT_STEPS = "next_steps"


@dataclass(frozen=True)
class Texts:
    """Everything the bot says to a person, in one language."""

    queued: str
    consent_intro: str
    consent_items: Mapping[ConsentItem, str]
    consent_whom: str
    consent_why: str
    consent_ask: str
    agree: str  # button labels: LINE allows 20 characters
    disagree: str
    consent_given: str
    consent_refused: str
    crisis: str  # at once, when the person writes words of acute risk
    left: str  # the person ended the chat
    handoff: str
    handoff_when: Mapping[Farewell, str]
    handoff_note: str
    tonight: str
    next_steps: str


HANDOFF_BY_SEVERITY: Mapping[Severity, Farewell] = {
    Severity.S4: Farewell.HANDOFF_S4,
    Severity.S3: Farewell.HANDOFF_S3,
    Severity.S2: Farewell.HANDOFF_S2,
}


# Words of acute risk (lower-cased, matched inside the text): the chat shows the crisis numbers at
# once and the queue takes the chat first. Over-matching costs a counsellor's earlier look;
# missing one costs more.
ACUTE_RISK_WORDS: tuple[str, ...] = (
    "死にたい",
    "しにたい",
    "消えたい",
    "きえたい",
    "自殺",
    "死のう",
    "死ぬつもり",
    "生きていたくない",
    "殺して",
    "首を吊",
    "飛び降り",
    "リスカ",
    "suicide",
    "kill myself",
    "want to die",
    "end my life",
    "想死",
    "自杀",
    "죽고 싶",
    "자살",
    "muốn chết",
    "tự tử",
    "quero morrer",
    "suicídio",
    "quiero morir",
    "suicidio",
    "gusto ko nang mamatay",
    "magpakamatay",
    "मर्न मन",
    "आत्महत्या",
)


def has_acute_risk(text: str | None) -> bool:
    lowered = (text or "").lower()
    return any(word in lowered for word in ACUTE_RISK_WORDS)
