"""The LINE channel through the real app and database, with a local stand-in for LINE's API: signed
webhooks in, quick replies out, a counsellor taking, answering and closing a chat into a consultation."""

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from intake.examples import line_event
from intake.signatures import line_signature

from ..builders import chat_record

Api = Any  # the api fixture of conftest.py

USER_TEXT = "夜になると誰とも話せず、食事もとれていません"


def text(user: str, body: str) -> dict[str, Any]:
    return line_event("message", user, message={"type": "text", "id": str(time.time_ns()), "text": body})


def click(user: str, data: str) -> dict[str, Any]:
    return line_event("postback", user, postback={"data": data})


async def deliver(api: Api, *events: dict[str, Any], secret: str | None = None) -> httpx.Response:
    body = json.dumps({"destination": "U" + "0" * 32, "events": list(events)}, ensure_ascii=False).encode()
    return await send_raw(api, body, line_signature(secret or api.line_secret, body))


async def send_raw(api: Api, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Line-Signature"] = signature
    return await api.client.post("/v1/channels/line/webhook", content=body, headers=headers)


def new_user() -> str:
    return "U" + uuid.uuid4().hex


async def waiting_chat(api: Api, user: str, topic: str = "LONELY") -> str:
    assert (await deliver(api, text(user, USER_TEXT))).status_code == 200
    assert (await deliver(api, click(user, f"topic={topic}"))).status_code == 200
    return str(
        await api.pool.fetchval(
            "SELECT id FROM chats WHERE state = 'waiting' ORDER BY started_at DESC LIMIT 1"
        )
    )


async def test_a_first_message_opens_a_chat_and_the_bot_offers_topics_as_quick_replies(api: Api) -> None:
    user = new_user()
    first = text(user, USER_TEXT)
    response = await deliver(api, first)
    assert response.status_code == 200 and response.json() == {"events": 1}
    [sent] = api.line_api.outbox.sent()
    assert sent["kind"] == "reply" and sent["reply_token"] == first["replyToken"]
    menu = sent["messages"][-1]
    assert [i["action"]["data"] for i in menu["quickReply"]["items"]][:2] == [
        "topic=LONELY",
        "topic=SUICIDAL",
    ]
    chat = await api.pool.fetchrow("SELECT * FROM chats")
    assert chat["state"] == "choosing_topic" and chat["topic"] is None


async def test_choosing_a_topic_puts_the_chat_in_the_waiting_list_for_that_topic(api: Api) -> None:
    chat_id = await waiting_chat(api, new_user(), "POVERTY")
    counsellor = api.headers("counsellor")
    listed = (await api.client.get("/v1/chats", params={"topic": "POVERTY"}, headers=counsellor)).json()
    assert [c["id"] for c in listed] == [chat_id]
    assert listed[0]["state"] == "waiting" and listed[0]["messages"] >= 1
    other_topic = (await api.client.get("/v1/chats", params={"topic": "LONELY"}, headers=counsellor)).json()
    assert other_topic == []
    later = (api.clock.now.replace(year=2027)).isoformat()
    assert (await api.client.get("/v1/chats", params={"since": later}, headers=counsellor)).json() == []
    since = api.clock.now.isoformat()
    assert [
        c["id"]
        for c in (await api.client.get("/v1/chats", params={"since": since}, headers=counsellor)).json()
    ] == [chat_id]
    queued = api.line_api.outbox.sent()[-1]["messages"][0]["text"]
    assert "相談員におつなぎします" in queued


async def test_a_chat_is_taken_answered_asked_for_consent_and_closed_into_a_consultation(api: Api) -> None:
    user = new_user()
    chat_id = await waiting_chat(api, user)
    me, colleague = api.headers("counsellor", "counsellor-me"), api.headers("counsellor", "counsellor-other")

    taken = await api.client.post(f"/v1/chats/{chat_id}/take", headers=me)
    assert taken.status_code == 200 and taken.json()["state"] == "active"
    assert (await api.client.post(f"/v1/chats/{chat_id}/take", headers=colleague)).status_code == 409
    assert (await api.client.get(f"/v1/chats/{chat_id}", headers=colleague)).status_code == 404

    reply = await api.client.post(
        f"/v1/chats/{chat_id}/messages", json={"text": "お話を聞かせてください。"}, headers=me
    )
    assert reply.status_code == 201 and reply.json()["delivery"] == "sent"
    pushed = api.line_api.outbox.sent(to=user)
    assert pushed[-1]["messages"][0]["text"] == "お話を聞かせてください。"

    asked = await api.client.post(
        f"/v1/chats/{chat_id}/consent-request", json={"items": ["contact", "summary"]}, headers=me
    )
    assert asked.status_code == 201
    request_id = asked.json()["id"]
    buttons = api.line_api.outbox.sent(to=user)[-1]["messages"][0]["quickReply"]["items"]
    assert [b["action"]["data"] for b in buttons] == [
        f"consent=given&request={request_id}",
        f"consent=refused&request={request_id}",
    ]
    api.clock.advance(minutes=3)
    await deliver(api, click(user, f"consent=given&request={request_id}"))
    await deliver(api, text(user, "090-1234-5678 に電話してください"))

    transcript = (await api.client.get(f"/v1/chats/{chat_id}", headers=me)).json()
    assert transcript["consent"]["decision"] == "given"
    said = [(m["sender"], m["text"]) for m in transcript["transcript"]]
    assert ("user", USER_TEXT) in said and ("counsellor", "お話を聞かせてください。") in said
    assert said[-1] == ("user", "090-1234-5678 に電話してください")

    closed = await api.client.post(
        f"/v1/chats/{chat_id}/close",
        json=chat_record(no_money_or_food=True, wants_follow_up=True),
        headers=me,
    )
    assert closed.status_code == 201, closed.text
    consultation = closed.json()
    assert (consultation["channel"], consultation["topic"], consultation["severity"]) == (
        "chat",
        "LONELY",
        "S2",
    )
    assert consultation["entry"]["chat_id"] == chat_id and consultation["lawful_basis"] == "CONSENT"
    assert consultation["consent"]["method"] == "chat_click"
    assert sorted(consultation["consent"]["items"]) == ["contact", "summary"]
    # The case opened a handoff: the person is told who will call and roughly when, and tonight's numbers.
    farewell = [m["text"] for m in api.line_api.outbox.sent(to=user)[-1]["messages"]]
    assert farewell[0].startswith("お住まいの地域の支援団体から、あなたに連絡が入ります。")
    assert "110" in farewell[1] and "119" in farewell[1] and "#9999" in farewell[1]
    repeat = await api.client.post(
        f"/v1/chats/{chat_id}/close",
        json={"municipality_code": "131041", "severity": "S1", "summary": "x"},
        headers=me,
    )
    assert repeat.status_code == 200 and repeat.json()["id"] == consultation["id"]
    assert (
        await api.client.post(f"/v1/chats/{chat_id}/messages", json={"text": "x"}, headers=me)
    ).status_code == 409

    # The next message of the same user opens a new chat.
    await deliver(api, text(user, "もう一度相談したいです"))
    assert await api.pool.fetchval("SELECT count(*) FROM chats WHERE state <> 'closed'") == 1


async def test_the_conversation_and_the_line_user_id_are_stored_only_encrypted(api: Api) -> None:
    user = new_user()
    await waiting_chat(api, user)
    stored = json.dumps(
        [dict(r) for r in await api.pool.fetch("SELECT * FROM chats")]
        + [dict(r) for r in await api.pool.fetch("SELECT * FROM chat_messages")],
        default=str,
        ensure_ascii=False,
    )
    assert user not in stored and USER_TEXT not in stored and "誰とも話せず" not in stored
    assert await api.pool.fetchval("SELECT count(*) FROM chat_messages WHERE text_enc LIKE 'v1.k1.%'") >= 2


@pytest.mark.parametrize("tamper", ["missing", "wrong-secret", "body-changed-after-signing"])
async def test_a_webhook_without_a_valid_signature_is_refused_and_changes_nothing(
    api: Api, tamper: str
) -> None:
    body = json.dumps({"events": [text(new_user(), USER_TEXT)]}, ensure_ascii=False).encode()
    signature: str | None = line_signature(api.line_secret, body)
    if tamper == "missing":
        signature = None
    elif tamper == "wrong-secret":
        signature = line_signature("not-the-secret", body)
    else:
        body = body.replace("夜".encode(), "朝".encode())
    response = await send_raw(api, body, signature)
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_signature"
    assert USER_TEXT not in response.text
    assert await api.pool.fetchval("SELECT count(*) FROM chats") == 0
    assert api.line_api.outbox.sent() == []


async def test_a_replayed_or_redelivered_event_has_no_second_effect(api: Api) -> None:
    user = new_user()
    body = json.dumps({"events": [text(user, USER_TEXT)]}, ensure_ascii=False).encode()
    signature = line_signature(api.line_secret, body)
    assert (await send_raw(api, body, signature)).status_code == 200
    assert (await send_raw(api, body, signature)).status_code == 200
    assert await api.pool.fetchval("SELECT count(*) FROM chat_messages WHERE sender = 'user'") == 1
    assert len(api.line_api.outbox.sent()) == 1


async def test_a_body_that_is_not_a_line_webhook_gets_400(api: Api) -> None:
    body = b'{"events": "nope"}'
    response = await send_raw(api, body, line_signature(api.line_secret, body))
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


async def test_when_line_refuses_a_reply_the_counsellor_is_told_and_the_row_says_failed(api: Api) -> None:
    chat_id = await waiting_chat(api, new_user())
    me = api.headers("counsellor")
    await api.client.post(f"/v1/chats/{chat_id}/take", headers=me)
    api.line_api.outbox.fail_with = 500
    response = await api.client.post(
        f"/v1/chats/{chat_id}/messages", json={"text": "聞こえますか"}, headers=me
    )
    assert response.status_code == 502 and response.json()["error"]["code"] == "line_unavailable"
    assert (
        await api.pool.fetchval("SELECT delivery FROM chat_messages WHERE sender = 'counsellor'") == "failed"
    )


async def test_only_counsellors_use_the_chat_api(api: Api) -> None:
    chat_id = await waiting_chat(api, new_user())
    operator = api.headers("operator")
    assert (await api.client.get("/v1/chats", headers=operator)).status_code == 403
    assert (await api.client.post(f"/v1/chats/{chat_id}/take")).status_code == 401
    missing = await api.client.post(f"/v1/chats/{uuid.uuid4()}/take", headers=api.headers("counsellor"))
    assert missing.status_code == 404
