"""What the bot says, put together in the chat's language: the consent question, the crisis
numbers and the closing message that fits the outcome. Pure: no I/O."""

from collections.abc import Iterable

from contracts.vocabulary import LawfulBasis, Severity
from intake.chat.language import HANDOFF_BY_SEVERITY, Farewell, Texts, language_of
from intake.chat.texts import TEXTS
from intake.consent.domain import ConsentItem
from intake.consultations.handoff import opens_handoff


def texts_for(code: str | None) -> Texts:
    return TEXTS[language_of(code)]


def consent_lines(texts: Texts, items: Iterable[ConsentItem]) -> tuple[str, ...]:
    """The consent question, line by line: who asks, what, to whom, why, and the question."""
    what = "".join(f"\n・{texts.consent_items[i]}" for i in sorted(items))
    return (texts.consent_intro + what, texts.consent_whom, texts.consent_why, texts.consent_ask)


def farewell_for(severity: Severity, basis: LawfulBasis | None) -> Farewell:
    """A handoff's closing message when the recorded case opens one, else where to turn next."""
    if opens_handoff(severity, basis):
        return HANDOFF_BY_SEVERITY.get(severity, Farewell.HANDOFF_S2)
    return Farewell.NEXT_STEPS


def farewell_lines(texts: Texts, farewell: Farewell | None) -> tuple[str, ...]:
    """The closing messages: calm words about who will call and roughly when, tonight's numbers."""
    if farewell is None or farewell is Farewell.NEXT_STEPS:
        return (texts.next_steps,)
    when = texts.handoff_when[farewell]
    return (texts.handoff.format(when=when) + "\n" + texts.handoff_note, texts.tonight)
