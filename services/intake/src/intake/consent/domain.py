"""Consent and lawful basis (個人情報保護法 27条): what the person agreed to, and what that lets a
recipient receive. Pure: no I/O."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.vocabulary import LawfulBasis


class ConsentItem(StrEnum):
    """What a recipient may receive; codes and ids travel anyway, these are the personal parts."""

    CONTACT = "contact"  # name, phone, address
    SUMMARY = "summary"  # the consultation's narrative
    RISK = "risk"  # the structured risk answers


class RecipientKind(StrEnum):
    # Every directory partner is one of these: NPOs, 社会福祉協議会, 自立相談支援機関, public desks.
    LOCAL_SUPPORT_ORG = "local_support_org"
    MEDICAL = "medical"
    POLICE = "police"


class ConsentMethod(StrEnum):
    RECORDED_LINE = "recorded_line"  # said on a recorded phone line
    CHAT_CLICK = "chat_click"  # clicked in the chat
    WRITTEN = "written"


class ConsentDecision(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"


# The words the person agreed to, by version; a consent names the version it was given under.
CONSENT_TEXTS: dict[str, str] = {
    "2026-11-v1": (
        "ご相談の内容と連絡先を、お住まいの地域の支援団体(NPO・社会福祉協議会・自治体の相談窓口など)に"
        "お伝えし、その団体から連絡や面談・同行支援のご案内をさせていただいてもよろしいですか。"
        "お伝えするのは支援に必要な範囲に限り、お伝えした記録を残します。"
    ),
}
CURRENT_CONSENT_TEXT = "2026-11-v1"


@dataclass(frozen=True)
class ConsentInput:
    decision: ConsentDecision
    items: frozenset[ConsentItem]
    recipient_kind: RecipientKind
    method: ConsentMethod
    text_version: str
    obtained_at: datetime | None = None


@dataclass(frozen=True)
class Consent:
    id: uuid.UUID
    decision: ConsentDecision
    items: frozenset[ConsentItem]
    recipient_kind: RecipientKind
    method: ConsentMethod
    text_version: str
    obtained_at: datetime
    obtained_by: str
    recorded_at: datetime

    @property
    def given(self) -> bool:
        return self.decision is ConsentDecision.GIVEN


def disclosable_items(basis: LawfulBasis | None, consent: Consent | None) -> frozenset[ConsentItem]:
    """What personal data a local support organisation may receive about the case.

    With consent, exactly the consented items to the consented kind of recipient. Under a legal
    exception (life and body, a legal duty, child welfare, a public body's duty) what the
    recipient needs in order to act: contact, summary and risk. Without a basis, nothing.
    """
    if basis is None:
        return frozenset()
    if basis is LawfulBasis.CONSENT:
        if (
            consent is None
            or not consent.given
            or consent.recipient_kind is not RecipientKind.LOCAL_SUPPORT_ORG
        ):
            return frozenset()
        return consent.items
    return frozenset(ConsentItem)
