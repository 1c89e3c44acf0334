"""The pure parts of the channels: voice-menu routing and hours, TwiML, LINE events and chat plans."""

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from contracts.hours import JST
from contracts.vocabulary import Topic
from intake.chat import domain as chat
from intake.chat.domain import ChatState, Clicked, Followed, Left, MessageKind, Wrote, plan
from intake.chat.line import LineWebhook, render, to_inbound
from intake.consent.domain import ConsentDecision, ConsentItem
from intake.phone import twiml
from intake.phone.domain import (
    Desk,
    Hours,
    MenuInvalid,
    MenuOption,
    RouteKind,
    RouteReason,
    VoiceMenu,
    Window,
    announcement,
    parse_hhmm,
    to_e164,
    validate_options,
)
from intake.phone.repository import options_from_json, options_to_json

ORG = uuid.uuid4()
EVENING = Hours(windows=(Window(parse_hhmm("18:00"), parse_hhmm("02:00")),))
WEEKDAYS = Hours(windows=(Window(parse_hhmm("10:00"), parse_hhmm("17:00"), frozenset({1, 2, 3, 4, 5})),))


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=JST)  # 2026-05-01 is a Friday


def _menu(**changes: object) -> VoiceMenu:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "campaign": "gw-2026",
        "version": 1,
        "greeting": "孤独・孤立相談ダイヤルです",
        "options": (
            MenuOption(
                "9", Topic.LONELY, "孤独・孤立に悩んでいる方", Desk(ORG, "+81312345678", Hours(always=True))
            ),
            MenuOption(
                "4", Topic.SOGI, "性別の違和等に関して相談したい方", Desk(ORG, "+81312345679", EVENING)
            ),
            MenuOption("5", Topic.DISASTER, "被災していて相談したい方", None),
        ),
        "fallback_number": "+81120494949",
        "starts_at": jst(1, 10),
        "ends_at": jst(6, 10),
        "created_by": "op",
        "created_at": jst(1, 9),
    }
    fields.update(changes)
    return VoiceMenu(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "e164"),
    [("0120-494949", "+81120494949"), ("03-1234-5678", "+81312345678"), ("+81 3 1234 5678", "+81312345678")],
)
def test_japanese_numbers_are_dialled_in_e164(number: str, e164: str) -> None:
    assert to_e164(number) == e164


@pytest.mark.parametrize("number", ["110", "1234", "abc", "+0123456789"])
def test_what_is_not_a_dialable_number_is_refused(number: str) -> None:
    with pytest.raises(ValueError):
        to_e164(number)


@pytest.mark.parametrize(
    ("hours", "at", "open_"),
    [
        (EVENING, jst(2, 17, 59), False),
        (EVENING, jst(2, 18, 0), True),
        (EVENING, jst(3, 1, 59), True),  # past midnight, into the next day
        (EVENING, jst(3, 2, 0), False),
        (WEEKDAYS, jst(1, 10), True),  # Friday
        (WEEKDAYS, jst(2, 10), False),  # Saturday
        (WEEKDAYS, jst(4, 16, 59), True),
        (WEEKDAYS, jst(4, 17, 0), False),
        (Hours(always=True), jst(3, 3), True),
        (Hours(windows=(Window(parse_hhmm("00:00"), parse_hhmm("24:00")),)), jst(3, 23, 59), True),
    ],
)
def test_desk_hours_are_japan_time_with_windows_past_midnight(
    hours: Hours, at: datetime, open_: bool
) -> None:
    assert hours.is_open(at) is open_
    assert hours.is_open(at.astimezone(UTC)) is open_  # the same instant in UTC


def test_an_open_desk_is_dialled() -> None:
    route = _menu().route("9", jst(3, 3))
    assert (route.kind, route.number, route.reason) == (RouteKind.DESK, "+81312345678", RouteReason.OPEN)
    assert route.option is not None and route.option.topic is Topic.LONELY


@pytest.mark.parametrize(
    ("digit", "at", "reason"),
    [
        ("4", jst(3, 12), RouteReason.CLOSED),
        ("5", jst(3, 12), RouteReason.NO_DESK),
        ("7", jst(3, 12), RouteReason.NO_CHOICE),
        (None, jst(3, 12), RouteReason.NO_CHOICE),
        ("9", jst(6, 10), RouteReason.OUTSIDE_CAMPAIGN),  # the campaign ended at 10:00 sharp
        ("9", jst(1, 9, 59), RouteReason.OUTSIDE_CAMPAIGN),
    ],
)
def test_otherwise_the_fallback_number_is_dialled_with_the_reason(
    digit: str | None, at: datetime, reason: RouteReason
) -> None:
    route = _menu().route(digit, at)
    assert (route.kind, route.number, route.reason) == (RouteKind.FALLBACK, "+81120494949", reason)
    assert announcement(route).endswith("おつなぎします。")


def test_the_prompt_reads_every_option_in_japanese() -> None:
    assert _menu().prompt() == (
        "孤独・孤立相談ダイヤルです。孤独・孤立に悩んでいる方は、9を押してください。"
        "性別の違和等に関して相談したい方は、4を押してください。被災していて相談したい方は、5を押してください。"
    )


def test_a_menu_keeps_its_options_through_storage() -> None:
    options = _menu().options
    assert options_from_json(options_to_json(options)) == options


def test_a_menu_needs_options_with_distinct_digits_and_desks_with_hours() -> None:
    with pytest.raises(MenuInvalid):
        validate_options(())
    twice = (MenuOption("1", Topic.LONELY, "a", None), MenuOption("1", Topic.SOGI, "b", None))
    with pytest.raises(MenuInvalid):
        validate_options(twice)
    with pytest.raises(MenuInvalid):
        validate_options((MenuOption("1", Topic.LONELY, "a", Desk(ORG, "+81312345678", Hours())),))


# ---- TwiML ----------------------------------------------------------------------------------


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - our own answer, not untrusted input


def test_the_menu_is_a_gather_of_one_digit_read_in_japanese_then_a_redirect_on_silence() -> None:
    root = _parse(twiml.menu("メニューです。", action="/v1/channels/phone/voice", on_silence="/v?silence=1"))
    assert root.tag == "Response"
    gather = root.find("Gather")
    assert (
        gather is not None
        and gather.get("numDigits") == "1"
        and gather.get("action") == "/v1/channels/phone/voice"
    )
    say = gather.find("Say")
    assert say is not None and say.get("language") == "ja-JP" and say.text == "メニューです。"
    redirect = root.find("Redirect")
    assert redirect is not None and redirect.text == "/v?silence=1"


def test_connecting_says_where_then_dials_with_an_action_for_the_outcome() -> None:
    root = _parse(twiml.connect("おつなぎします。", "+81120494949", action="/dial"))
    assert [child.tag for child in root] == ["Say", "Dial"]
    dial = root.find("Dial")
    assert dial is not None and dial.get("action") == "/dial"
    number = dial.find("Number")
    assert number is not None and number.text == "+81120494949"


def test_texts_with_markup_characters_are_escaped() -> None:
    root = _parse(twiml.say_and_hang_up("<Hangup/> & 'quotes'"))
    say = root.find("Say")
    assert say is not None and say.text == "<Hangup/> & 'quotes'"


# ---- LINE events and the chat's plan --------------------------------------------------------

USER = "U" + "f" * 32


def _event(kind: str, **extra: object) -> dict[str, object]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": 1_780_000_000_000,
        "webhookEventId": "01H" + kind.upper(),
        "source": {"type": "user", "userId": USER},
        "replyToken": "r" * 32,
        **extra,
    }


def test_line_events_become_our_inbound_events() -> None:
    hook = LineWebhook.model_validate(
        {
            "destination": "U0",
            "events": [
                _event("follow"),
                _event("message", message={"type": "text", "id": "m1", "text": "つらい"}),
                _event("message", message={"type": "sticker", "id": "m2", "packageId": "1"}),
                _event("postback", postback={"data": "topic=LONELY"}),
                _event("unfollow"),
                _event(
                    "message",
                    message={"type": "text", "id": "m3", "text": "x"},
                    source={"type": "group", "groupId": "G"},
                ),
                _event("message", message={"type": "text", "id": "m4", "text": "x"}, mode="standby"),
                _event("read"),
            ],
        }
    )
    inbound = [to_inbound(e) for e in hook.events]
    assert isinstance(inbound[0], Followed) and inbound[0].user_id == USER
    assert (
        isinstance(inbound[1], Wrote) and inbound[1].text == "つらい" and inbound[1].kind is MessageKind.TEXT
    )
    assert (
        isinstance(inbound[2], Wrote) and inbound[2].text is None and inbound[2].kind is MessageKind.STICKER
    )
    assert isinstance(inbound[3], Clicked) and inbound[3].data == "topic=LONELY"
    assert isinstance(inbound[4], Left)
    assert inbound[5:] == [None, None, None]
    assert inbound[1].at == datetime(2026, 5, 28, 20, 26, 40, tzinfo=UTC)


AT = datetime(2026, 5, 3, tzinfo=UTC)


def _wrote(text: str) -> Wrote:
    return Wrote("e", USER, AT, "r", kind=MessageKind.TEXT, text=text, message_id="m")


def test_a_first_message_opens_a_chat_and_offers_the_topics() -> None:
    step = plan(None, _wrote("話を聞いてほしい"), None)
    assert step.open_chat and step.store and step.choose_topic is None
    assert step.replies[-1].topic_choices


def test_a_topic_click_or_its_label_typed_puts_the_chat_in_the_queue() -> None:
    clicked = plan(
        ChatState.CHOOSING_TOPIC, Clicked("e", USER, AT, "r", data=chat.topic_click(Topic.POVERTY)), None
    )
    assert clicked.choose_topic is Topic.POVERTY and clicked.replies[0].text == chat.QUEUED
    typed = plan(ChatState.CHOOSING_TOPIC, _wrote("孤独・孤立の悩み"), None)
    assert typed.choose_topic is Topic.LONELY and typed.store


def test_while_waiting_or_talking_messages_are_kept_without_a_bot_answer() -> None:
    for state in (ChatState.WAITING, ChatState.ACTIVE):
        step = plan(state, _wrote("まだですか"), None)
        assert step.store and not step.replies and step.choose_topic is None


def test_a_consent_click_counts_only_for_the_pending_request() -> None:
    request = chat.new_consent_request(frozenset({ConsentItem.CONTACT}), "2026-11-v1", by="c", at=AT)
    click = Clicked(
        "e", USER, AT + timedelta(minutes=1), "r", data=chat.consent_click(request.id, ConsentDecision.GIVEN)
    )
    step = plan(ChatState.ACTIVE, click, request)
    assert step.consent is not None and step.consent.decision is ConsentDecision.GIVEN
    assert step.consent.items == {ConsentItem.CONTACT} and step.consent.at == AT + timedelta(minutes=1)
    stale = Clicked("e", USER, AT, "r", data=chat.consent_click("older", ConsentDecision.GIVEN))
    assert plan(ChatState.ACTIVE, stale, request).consent is None
    assert plan(ChatState.ACTIVE, click, None).consent is None


def test_unfollowing_closes_an_open_chat() -> None:
    assert plan(ChatState.ACTIVE, Left("e", USER, AT, None), None).close
    assert not plan(None, Left("e", USER, AT, None), None).close


def test_the_topic_menu_is_a_quick_reply_of_postbacks_within_lines_limits() -> None:
    message = render(chat.Reply(chat.CHOOSE_TOPIC, topic_choices=True))
    items = message["quickReply"]["items"]
    assert len(items) == len(chat.TOPIC_LABELS) <= 13
    assert all(i["action"]["type"] == "postback" and len(i["action"]["label"]) <= 20 for i in items)
    assert {i["action"]["data"] for i in items} == {chat.topic_click(t) for t in chat.TOPIC_LABELS}
