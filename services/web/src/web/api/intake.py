"""intake's answers as web reads them: the counsellor's own consultations, chats and calls, the phone
line's voice menus, and what a case discloses to the partner who accepted it."""

from typing import Any

from web.api import Answer, Endpoint, Id, Instant


class ConsultationSummary(Answer):
    """A consultation as the counsellor's case list shows it (codes; no personal data read)."""

    case_id: Id
    topic: str
    municipality_code: str
    severity: str
    lawful_basis: str | None
    recorded_at: Instant


class Handoff(Answer):
    """Whether the case is handed to a local organisation, and if not, why (a NoHandoff code)."""

    opens: bool
    reason: str | None


class Consultation(ConsultationSummary):
    """The counsellor's own consultation, as the case page shows it."""

    channel: str
    summary: str | None  # None once purged after the retention period
    handoff: Handoff


class Contact(Answer):
    name: str | None
    phone: str | None
    address: str | None


class Disclosure(Answer):
    """What intake releases to the accepting partner: only the items consent (or the legal basis)
    covers; the others are named in `withheld` and come as None."""

    items: list[str]
    withheld: list[str]
    contact: Contact | None
    summary: str | None
    risk: dict[str, Any] | None  # the structured risk assessment; screens show its codes only


class Desk(Answer):
    """The partner desk a menu option puts callers through to."""

    organisation_id: Id
    number: str


class MenuOption(Answer):
    digit: str
    topic: str
    label: str
    desk: Desk | None = None  # None: callers go to the fallback number (the service may omit it)


class VoiceMenu(Answer):
    """One version of the phone line's menu."""

    id: Id
    campaign: str
    version: int
    greeting: str
    fallback_number: str
    options: list[MenuOption]
    active: bool


class ChatSummary(Answer):
    """A chat as the counsellor's queue shows it."""

    id: Id
    channel: str
    language: str
    acute_risk_at: Instant | None  # when words of acute risk were first written
    state: str
    topic: str | None
    started_at: Instant
    topic_chosen_at: Instant | None
    messages: int


class CallLeg(Answer):
    """A phone call as the counsellor's queue shows it."""

    id: Id
    digit: str | None
    topic: str | None
    started_at: Instant
    routed_to: str | None


class ChatConsent(Answer):
    """The person's own answer in the chat to what the counsellor asked."""

    decision: str  # given | refused
    items: list[str]


class ConsentRequest(Answer):
    id: str


class ChatMessage(Answer):
    sender: str  # user | bot | counsellor
    text: str | None
    at: Instant


class Chat(ChatSummary):
    """A chat the counsellor took, with its transcript."""

    farewell: str | None
    closed_reason: str | None
    consent: ChatConsent | None
    consent_requested: ConsentRequest | None
    consultation_id: Id | None
    transcript: list[ChatMessage]


# What web reads of intake, each answer in its model above.
CONSULTATIONS = Endpoint("intake", "/v1/consultations", list[ConsultationSummary])
CONSULTATION = Endpoint("intake", "/v1/consultations/{consultation_id}", Consultation)
RECORD_CONSULTATION = Endpoint("intake", "/v1/consultations", ConsultationSummary, method="POST")
RECORD_CHAT = Endpoint("intake", "/v1/chats/{chat_id}/close", ConsultationSummary, method="POST")
DISCLOSURE = Endpoint("intake", "/v1/cases/{case_id}/disclosure", Disclosure)
VOICE_MENUS = Endpoint("intake", "/v1/voice-menus", list[VoiceMenu])
VOICE_MENU = Endpoint("intake", "/v1/voice-menus/{menu_id}", VoiceMenu)
ACTIVE_VOICE_MENU = Endpoint("intake", "/v1/voice-menus/active", VoiceMenu)
CHATS = Endpoint("intake", "/v1/chats", list[ChatSummary])
CHAT = Endpoint("intake", "/v1/chats/{chat_id}", Chat)
CALL_LEGS = Endpoint("intake", "/v1/channels/phone/legs", list[CallLeg])
CALL_LEG = Endpoint("intake", "/v1/channels/phone/legs/{leg_id}", CallLeg)
