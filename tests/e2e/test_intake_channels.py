"""A phone call and a LINE chat, each taken through to a consultation on the running system.

The requests are shaped and signed as the providers send them (a Twilio-style form with
X-Twilio-Signature, a LINE webhook with X-Line-Signature); LINE's replies go to the stack's local
stand-in of the Messaging API. The flows carry the `personal_data` values, so the final privacy
scan (test_privacy_scan.py) checks that none of it reached a topic, a span or a log.
"""

import json
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import PartnerOrg, Receiver, System
from support import PersonalData, wait_until

from intake.examples import line_event
from intake.signatures import line_signature, twilio_signature

HOTLINE = "+81120999999"


@pytest.fixture(scope="module")
def line_api(system: System) -> str:
    """The stack's stand-in for LINE's Messaging API, where intake sends chat replies."""
    system.stack.start_line_api()
    return str(system.stack.service_url("line-api"))


@pytest.fixture
def voice_menu(system: System) -> Iterator[Any]:
    """Activates the test's menu and puts the menu that was active back afterwards."""
    with system.client("intake", "operator") as intake:
        before = intake.get("/v1/voice-menus/active")
        previous = before.json()["id"] if before.status_code == 200 else None

        def activate(body: dict[str, Any]) -> dict[str, Any]:
            created = intake.post("/v1/voice-menus", json=body)
            assert created.status_code == 201, created.text
            activated = intake.post(f"/v1/voice-menus/{created.json()['id']}/activate")
            assert activated.status_code == 200, activated.text
            return dict(activated.json())

        yield activate
        if previous is not None:
            intake.post(f"/v1/voice-menus/{previous}/activate")


def _secret(system: System, name: str) -> str:
    return str(system.stack._channel_secret(name))


def _twilio(system: System, path: str, params: list[tuple[str, str]]) -> httpx.Response:
    url = system.urls["intake"] + path
    signature = twilio_signature(_secret(system, "twilio_auth_token"), url, params)
    return httpx.post(
        url,
        content=urllib.parse.urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        timeout=10,
    )


def _twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    return ET.fromstring(response.text)  # noqa: S314 - intake's own answer


def _line(system: System, *events: dict[str, Any], secret: str | None = None) -> httpx.Response:
    body = json.dumps({"destination": "U" + "0" * 32, "events": list(events)}, ensure_ascii=False).encode()
    signature = line_signature(secret or _secret(system, "line_channel_secret"), body)
    return httpx.post(
        system.urls["intake"] + "/v1/channels/line/webhook",
        content=body,
        headers={"Content-Type": "application/json", "X-Line-Signature": signature},
        timeout=10,
    )


# Every LINE user id and call id these tests used: none may appear in intake's log.
USED_IDS: set[str] = set()


def _event(user: str, kind: str, **extra: Any) -> dict[str, Any]:
    USED_IDS.add(user)
    return line_event(kind, user, **extra)


def _sent_to_line(line_api: str, **params: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = httpx.get(f"{line_api}/sent", params=params, timeout=5).json()
    return sent


def _handoff(system: System, receiver: Receiver, partner: PartnerOrg, case_id: str) -> str:
    """Waits for the partner's signed alert, acknowledges it as the partner; returns the referral."""
    receiver.wait_for(lambda: len(receiver.for_case(case_id)) == 1, timeout=45)
    alert = receiver.for_case(case_id)[0]
    assert alert.signature_ok
    referral_id = str(alert.json["referral_id"])
    ack = httpx.post(
        f"{system.urls['referral']}/v1/referrals/{referral_id}/attempts/{alert.json['attempt']}/acknowledge",
        headers={"Authorization": f"Bearer {partner.token}"},
        timeout=10,
    )
    assert ack.status_code == 200, ack.text
    return referral_id


def _take_our_chat(intake: httpx.Client, queued_after: datetime, opening: str) -> str:
    """Takes the waiting chat that opened with `opening` and returns its id.

    The intake is shared (other runs may queue chats on the same topic at the same time), and a
    chat's transcript can be read only by the counsellor who took it: the chats queued since the
    test began are taken newest first until the one whose first message is ours.
    """
    waiting = intake.get(
        "/v1/chats", params={"topic": "POVERTY", "since": queued_after.isoformat(), "limit": 200}
    )
    assert waiting.status_code == 200, waiting.text
    candidates = [c for c in waiting.json() if datetime.fromisoformat(c["started_at"]) >= queued_after]
    for candidate in reversed(candidates):  # oldest first: ours is most likely the newest
        chat_id = str(candidate["id"])
        taken = intake.post(f"/v1/chats/{chat_id}/take")
        if taken.status_code == 409:  # already taken by someone else: not this test's, which waits
            continue
        assert taken.status_code == 200, taken.text
        transcript = intake.get(f"/v1/chats/{chat_id}").json()["transcript"]
        if transcript and transcript[0].get("text") == opening:
            return chat_id
    raise AssertionError(
        f"none of the {len(candidates)} POVERTY chat(s) queued since {queued_after.isoformat()} "
        "opened with this test's message"
    )


def test_a_phone_call_is_routed_by_the_voice_menu_and_completed_into_a_consultation_that_reaches_its_partner(
    system: System,
    receiver: Receiver,
    partner_factory: Callable[..., PartnerOrg],
    personal_data: PersonalData,
    voice_menu: Any,
) -> None:
    partner = partner_factory(topics=("LONELY",))
    menu = voice_menu(
        {
            "campaign": f"e2e-{uuid.uuid4().hex[:8]}",
            "greeting": "孤独・孤立相談ダイヤルです",
            "options": [
                {
                    "digit": "9",
                    "topic": "LONELY",
                    "label": "孤独・孤立に悩んでいる方",
                    "desk": {
                        "organisation_id": partner.id,
                        "number": "03-0000-0999",
                        "hours": {"always": True},
                    },
                },
                {"digit": "3", "topic": "SUICIDAL", "label": "死にたいほどつらい方"},
            ],
        }
    )
    sid = "CA" + uuid.uuid4().hex
    call = [("CallSid", sid), ("From", personal_data.phone), ("To", HOTLINE), ("CallStatus", "ringing")]

    menu_xml = _twiml(_twilio(system, "/v1/channels/phone/voice", call))
    gather, say = menu_xml.find("Gather"), menu_xml.find("Gather/Say")
    assert gather is not None and gather.get("numDigits") == "1"
    assert say is not None and say.get("language") == "ja-JP" and say.text == menu["prompt"]

    dial_xml = _twiml(_twilio(system, "/v1/channels/phone/voice", [*call, ("Digits", "9")]))
    number = dial_xml.find("Dial/Number")
    assert number is not None and number.text == "+81300000999"
    ended = _twilio(
        system,
        "/v1/channels/phone/voice/dial-status",
        [*call, ("DialCallStatus", "completed"), ("DialCallDuration", "900")],
    )
    assert ended.status_code == 200

    forged = httpx.post(
        system.urls["intake"] + "/v1/channels/phone/voice",
        content=urllib.parse.urlencode([*call, ("Digits", "3")]),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "AAAA"},
    )
    assert forged.status_code == 403

    with system.client("intake", "counsellor") as intake:
        legs = intake.get("/v1/channels/phone/legs", params={"topic": "LONELY"}).json()
        [leg] = [leg for leg in legs if leg["call_sid"] == sid]
        assert leg["caller"] is None and leg["menu_id"] == menu["id"] and leg["digit"] == "9"
        assert intake.get(f"/v1/channels/phone/legs/{leg['id']}").json()["caller"] == personal_data.phone
        created = intake.post(
            "/v1/consultations",
            json={
                "channel": "phone",
                "topic": "LONELY",
                "municipality_code": partner.municipality_code,
                "call_leg_id": leg["id"],
                "risk": {"safe_place_tonight": False, "distress": True},
                "consent": {
                    "items": ["contact", "summary"],
                    "method": "recorded_line",
                    "text_version": "2026-11-v1",
                },
                "summary": personal_data.summary,
                "contact": {
                    "name": personal_data.name,
                    "phone": personal_data.phone,
                    "address": personal_data.address,
                },
                "need_tags": ["HOU", "ISO"],
                "age_band": "30-64",
            },
        )
        assert created.status_code == 201, created.text
        consultation = created.json()
    assert consultation["severity"] == "S3" and consultation["severity_decision"]["computed"] == "S3"
    assert consultation["entry"]["menu_id"] == menu["id"] and consultation["entry"]["menu_digit"] == "9"
    case_id = consultation["case_id"]

    _handoff(system, receiver, partner, case_id)
    disclosure_url = f"{system.urls['intake']}/v1/cases/{case_id}/disclosure"
    as_partner = {"Authorization": f"Bearer {partner.token}"}
    wait_until(
        lambda: httpx.get(disclosure_url, headers=as_partner, params={"items": "summary"}).status_code == 200,
        timeout=30,
        what="intake learning that the partner accepted the case",
    )
    released = httpx.get(disclosure_url, headers=as_partner).json()
    assert released["items"] == ["contact", "summary"]
    assert (
        released["contact"]["phone"] == personal_data.phone and released["summary"] == personal_data.summary
    )
    assert released["provision_id"]

    stranger = partner_factory()
    denied = httpx.get(disclosure_url, headers={"Authorization": f"Bearer {stranger.token}"})
    assert denied.status_code == 404 and personal_data.name not in denied.text
    with system.client("intake", "operator") as intake:
        records = intake.get(f"/v1/partners/{partner.id}/disclosures").json()
    assert {r["case_id"] for r in records} == {case_id} and len(records) == 2
    assert all(r["lawful_basis"] == "CONSENT" and r["consent_id"] for r in records)


def test_a_line_chat_is_taken_answered_and_closed_into_a_consultation_that_reaches_its_partner(
    system: System,
    receiver: Receiver,
    partner_factory: Callable[..., PartnerOrg],
    personal_data: PersonalData,
    line_api: str,
) -> None:
    partner = partner_factory(topics=("POVERTY",))
    user = "U" + uuid.uuid4().hex
    queued_after = datetime.now(UTC) - timedelta(seconds=1)
    opening = f"{personal_data.name}です。{personal_data.summary}"
    first = _event(user, "message", message={"type": "text", "id": "1", "text": opening})
    assert _line(system, first).status_code == 200
    wait_until(
        lambda: (
            len(_sent_to_line(line_api)) > 0
            and any(s.get("reply_token") == first["replyToken"] for s in _sent_to_line(line_api))
        ),
        what="the bot's topic menu at LINE",
    )
    assert _line(system, _event(user, "postback", postback={"data": "topic=POVERTY"})).status_code == 200

    with system.client("intake", "counsellor") as intake:
        chat_id = _take_our_chat(intake, queued_after, opening)
        assert (
            intake.post(
                f"/v1/chats/{chat_id}/messages", json={"text": "お話を聞かせてください。"}
            ).status_code
            == 201
        )
        assert _sent_to_line(line_api, to=user)[-1]["messages"][0]["text"] == "お話を聞かせてください。"
        request_id = intake.post(
            f"/v1/chats/{chat_id}/consent-request", json={"items": ["contact", "summary"]}
        ).json()["id"]
        _line(system, _event(user, "postback", postback={"data": f"consent=given&request={request_id}"}))
        _line(
            system,
            _event(user, "message", message={"type": "text", "id": "2", "text": personal_data.address}),
        )

        chat = intake.get(f"/v1/chats/{chat_id}").json()
        assert chat["consent"]["decision"] == "given"
        assert chat["transcript"][0]["text"] == opening
        assert chat["transcript"][-1]["text"] == personal_data.address

        closed = intake.post(
            f"/v1/chats/{chat_id}/close",
            json={
                "municipality_code": partner.municipality_code,
                "risk": {"urgent_in_person_help": True, "no_money_or_food": True},
                "summary": personal_data.summary,
                "contact": {"name": personal_data.name, "address": personal_data.address},
                "need_tags": ["MON", "FOOD"],
            },
        )
        assert closed.status_code == 201, closed.text
        consultation = closed.json()
    assert (consultation["channel"], consultation["topic"], consultation["severity"]) == (
        "chat",
        "POVERTY",
        "S3",
    )
    assert consultation["consent"]["method"] == "chat_click" and consultation["entry"]["chat_id"] == chat_id
    # A handoff opened: the closing message says a local organisation will call, and roughly when.
    assert _sent_to_line(line_api, to=user)[-1]["messages"][0]["text"].startswith(
        "お住まいの地域の支援団体から、あなたに連絡が入ります。目安は数時間以内です。"
    )

    _handoff(system, receiver, partner, consultation["case_id"])
    alert = receiver.for_case(consultation["case_id"])[0]
    for value in personal_data.all():
        assert value not in alert.body.decode("utf-8")


def test_forged_or_replayed_line_webhooks_change_nothing(system: System, line_api: str) -> None:
    user = "U" + uuid.uuid4().hex
    event = _event(user, "message", message={"type": "text", "id": "1", "text": "こんにちは"})
    forged = _line(system, event, secret="not-the-channel-secret")
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "invalid_signature"
    assert _line(system, event).status_code == 200
    assert _line(system, event).status_code == 200  # the same webhookEventId again
    wait_until(lambda: any(s.get("reply_token") == event["replyToken"] for s in _sent_to_line(line_api)))
    time.sleep(0.5)  # a second reply, if any, would be sent in this window
    assert sum(s.get("reply_token") == event["replyToken"] for s in _sent_to_line(line_api)) == 1


def test_the_callers_number_and_the_line_user_id_never_reach_intakes_log(
    system: System, personal_data: PersonalData
) -> None:
    log = system.stack.log_path("intake").read_text(encoding="utf-8", errors="replace")
    assert personal_data.phone not in log and personal_data.phone.replace("-", "") not in log
    assert USED_IDS, "the channel tests above should have run first"
    assert not any(user_id in log for user_id in USED_IDS)
