"""The web chat channel: the web package's gateway relays an anonymous person; counsellors answer
it with the same chat API as LINE, and nothing is pushed to LINE."""

import uuid
from typing import Any


async def test_a_web_chat_waits_in_the_queue_and_the_counsellors_reply_reaches_the_person(api: Any) -> None:
    gateway = api.headers("channel", "web-chat-gateway")
    me = api.headers("counsellor", "counsellor-web")
    first = await api.client.post("/v1/web-chats", json={"topic": "LONELY"}, headers=gateway)
    api.clock.advance(seconds=1)  # the queue is ordered by time; the test clock stands still
    second = await api.client.post("/v1/web-chats", json={"topic": "POVERTY"}, headers=gateway)
    assert first.status_code == second.status_code == 201
    chat_id, later_id = first.json()["id"], second.json()["id"]

    view = (await api.client.get(f"/v1/web-chats/{later_id}", headers=gateway)).json()
    assert (view["state"], view["queue_position"]) == ("waiting", 2)
    assert [m["sender"] for m in view["messages"]] == ["bot"]

    wrote = await api.client.post(
        f"/v1/web-chats/{chat_id}/messages", json={"text": "誰とも話せていません"}, headers=gateway
    )
    assert wrote.status_code == 204
    waiting = (await api.client.get("/v1/chats", params={"state": "waiting"}, headers=me)).json()
    assert [c["id"] for c in waiting] == [chat_id, later_id]

    assert (await api.client.post(f"/v1/chats/{chat_id}/take", headers=me)).status_code == 200
    replied = await api.client.post(
        f"/v1/chats/{chat_id}/messages", json={"text": "お話を聞かせてください。"}, headers=me
    )
    assert replied.status_code == 201, replied.text
    assert api.line_api.outbox.sent() == []  # a web chat is never pushed to LINE

    view = (await api.client.get(f"/v1/web-chats/{chat_id}", params={"after": 2}, headers=gateway)).json()
    assert view["state"] == "active" and view["queue_position"] is None
    assert [(m["seq"], m["sender"], m["text"]) for m in view["messages"]] == [
        (3, "counsellor", "お話を聞かせてください。")
    ]
    assert "counsellor-web" not in str(view)  # the person never learns who answered

    closed = await api.client.post(
        f"/v1/chats/{chat_id}/close",
        json={"municipality_code": "131041", "severity": "S1", "summary": "眠れない夜が続いている"},
        headers=me,
    )
    assert closed.status_code == 201, closed.text
    view = (await api.client.get(f"/v1/web-chats/{chat_id}", headers=gateway)).json()
    assert view["state"] == "closed"
    refused = await api.client.post(f"/v1/web-chats/{chat_id}/messages", json={"text": "x"}, headers=gateway)
    assert refused.status_code == 409


async def test_a_person_who_leaves_while_waiting_closes_the_chat(api: Any) -> None:
    gateway = api.headers("channel", "web-chat-gateway")
    chat_id = (await api.client.post("/v1/web-chats", json={"topic": "SUICIDAL"}, headers=gateway)).json()[
        "id"
    ]
    assert (await api.client.post(f"/v1/web-chats/{chat_id}/leave", headers=gateway)).status_code == 204
    assert (await api.client.get(f"/v1/web-chats/{chat_id}", headers=gateway)).json()["state"] == "closed"


async def test_only_the_gateways_credential_reaches_the_web_chat_api_and_nothing_else(api: Any) -> None:
    gateway = api.headers("channel", "web-chat-gateway")
    for role in ("counsellor", "operator"):
        refused = await api.client.post("/v1/web-chats", json={"topic": "LONELY"}, headers=api.headers(role))
        assert refused.status_code == 403
    assert (await api.client.get("/v1/chats", headers=gateway)).status_code == 403
    assert (await api.client.get("/v1/consultations", headers=gateway)).status_code == 403
    unknown = await api.client.get(f"/v1/web-chats/{uuid.uuid4()}", headers=gateway)
    assert unknown.status_code == 404
