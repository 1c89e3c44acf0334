"""Ready-to-run example requests for newcomers: signed provider webhooks and a sample voice menu.

`python -m intake sign-example phone|line` prints them; the local stack's welcome text too.
"""

import json
import shlex
import time
import urllib.parse
import uuid
from typing import Any

from contracts.vocabulary import Topic
from intake.chat.domain import topic_click
from intake.signatures import line_signature, twilio_signature

SAMPLE_CALLER = "+819000000000"  # not a real subscriber number
SAMPLE_LINE = "+81120999999"  # the hotline number as the provider reports it


def phone_curl(
    auth_token: str, base_url: str, *, digits: str | None = None, call_sid: str | None = None
) -> str:
    """A curl that posts an incoming call (or, with `digits`, the caller's choice), signed."""
    url = f"{base_url.rstrip('/')}/v1/channels/phone/voice"
    params = [
        ("CallSid", call_sid or "CA" + uuid.uuid4().hex),
        ("AccountSid", "AC" + "0" * 32),
        ("From", SAMPLE_CALLER),
        ("To", SAMPLE_LINE),
        ("CallStatus", "in-progress" if digits else "ringing"),
        ("Direction", "inbound"),
    ]
    if digits:
        params.append(("Digits", digits))
    body = urllib.parse.urlencode(params)
    signature = twilio_signature(auth_token, url, params)
    return (
        f"curl -sS -X POST {url} \\\n"
        f"    -H 'X-Twilio-Signature: {signature}' \\\n"
        f"    -H 'Content-Type: application/x-www-form-urlencoded' \\\n"
        f"    --data {shlex.quote(body)}"
    )


def line_event(kind: str, user_id: str, **extra: Any) -> dict[str, Any]:
    """One event from a LINE user, as LINE's webhook sends it; `extra` is its message or postback."""
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": user_id},
        "replyToken": uuid.uuid4().hex,
        **extra,
    }


def line_body(user_id: str, *, text: str | None = None, topic: Topic | None = None) -> bytes:
    """A LINE webhook body with one message event (or, with `topic`, a quick-reply click)."""
    if topic is not None:
        event = line_event("postback", user_id, postback={"data": topic_click(topic)})
    else:
        message = {"type": "text", "id": str(int(time.time() * 1e6)), "text": text or "こんにちは"}
        event = line_event("message", user_id, message=message)
    # ASCII-only JSON: the bytes a shell passes on are exactly the bytes that were signed.
    return json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=True).encode()


def line_curl(
    channel_secret: str, base_url: str, *, text: str | None = None, topic: str | None = None
) -> str:
    body = line_body("U" + uuid.uuid4().hex, text=text, topic=Topic(topic) if topic else None)
    signature = line_signature(channel_secret, body)
    return (
        f"curl -sS -X POST {base_url.rstrip('/')}/v1/channels/line/webhook \\\n"
        f"    -H 'X-Line-Signature: {signature}' -H 'Content-Type: application/json' \\\n"
        f"    --data-binary {shlex.quote(body.decode())}"
    )


def sample_voice_menu(desk_organisation_id: str, desk_number: str = "03-0000-0001") -> dict[str, Any]:
    """A Golden-Week-style menu (the seed's topics): 9 孤独・孤立 and 3 死にたい answered by the
    sample desk around the clock, the others through the fallback number."""
    always = {"organisation_id": desk_organisation_id, "number": desk_number, "hours": {"always": True}}
    return {
        "campaign": "sample-gw",
        "greeting": "孤独・孤立相談ダイヤルです。ご相談の内容に合わせて番号を押してください",
        "options": [
            {"digit": "9", "topic": "LONELY", "label": "孤独・孤立に悩んでいる方", "desk": always},
            {"digit": "3", "topic": "SUICIDAL", "label": "死にたいほどつらい方", "desk": always},
            {"digit": "1", "topic": "UNDER18", "label": "18歳以下の方", "desk": None},
            {"digit": "2", "topic": "WOMEN", "label": "女性の悩みに関して相談したい方", "desk": None},
            {
                "digit": "4",
                "topic": "SOGI",
                "label": "性別の違和等に関して相談したい方",
                "desk": {**always, "hours": {"windows": [{"start": "10:00", "end": "22:00"}]}},
            },
            {"digit": "5", "topic": "DISASTER", "label": "被災していて相談したい方", "desk": None},
        ],
    }
