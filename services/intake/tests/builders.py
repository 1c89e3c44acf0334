"""What the intake's unit and integration tests share (imported relatively: `from ..builders`)."""

from typing import Any

from intake.consent.domain import (
    CURRENT_CONSENT_TEXT,
    ConsentDecision,
    ConsentInput,
    ConsentItem,
    ConsentMethod,
    RecipientKind,
)

# The person agreed, on the recorded line, that a local support organisation may have their
# contact details and the summary, under the consent text in force.
CONSENT = ConsentInput(
    decision=ConsentDecision.GIVEN,
    items=frozenset({ConsentItem.CONTACT, ConsentItem.SUMMARY}),
    recipient_kind=RecipientKind.LOCAL_SUPPORT_ORG,
    method=ConsentMethod.RECORDED_LINE,
    text_version=CURRENT_CONSENT_TEXT,
)

# The same agreement (CONSENT) as a counsellor posts it with a consultation.
CONSENT_BODY: dict[str, Any] = {
    "items": ["contact", "summary"],
    "method": "recorded_line",
    "text_version": CURRENT_CONSENT_TEXT,
}


def consultation_body(**fields: Any) -> dict[str, Any]:
    """A counsellor's request to record a consultation by phone about loneliness in 新宿区, with
    `fields` added or said otherwise."""
    return {"channel": "phone", "topic": "LONELY", "municipality_code": "131041", **fields}


def chat_record(**risk: bool) -> dict[str, Any]:
    """What a counsellor records on closing a chat with someone in 新宿区 who is short of food and
    asks a support organisation to call, with `risk` as the counsellor assessed it."""
    return {
        "municipality_code": "131041",
        "risk": risk,
        "summary": "食事がとれていない。支援団体からの連絡を希望。",
        "contact": {"phone": "090-1234-5678"},
        "need_tags": ["FOOD", "ISO"],
    }
