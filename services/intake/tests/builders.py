"""What the intake's unit and integration tests share (imported relatively: `from ..builders`)."""

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
