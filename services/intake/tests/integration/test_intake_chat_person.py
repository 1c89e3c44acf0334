"""The person's side of a chat, through the web chat gateway: an honest queue, the crisis numbers on
words of acute risk, the person's language, the consent question answered with a tap, recording and
ending as separate steps with the closing message the outcome calls for, and leaving at any time."""

from typing import Any

from ..builders import chat_record

S3_WITH_FOLLOW_UP = chat_record(urgent_in_person_help=True, no_money_or_food=True)


async def _start(api: Any, topic: str = "LONELY", language: str = "ja") -> str:
    gateway = api.headers("channel", "web-chat-gateway")
    started = await api.client.post(
        "/v1/web-chats", json={"topic": topic, "language": language}, headers=gateway
    )
    assert started.status_code == 201, started.text
    return str(started.json()["id"])


async def _view(api: Any, chat_id: str) -> dict[str, Any]:
    gateway = api.headers("channel", "web-chat-gateway")
    view: dict[str, Any] = (await api.client.get(f"/v1/web-chats/{chat_id}", headers=gateway)).json()
    return view


async def test_the_person_next_in_line_is_first_and_the_wait_estimate_comes_from_real_waits(api: Any) -> None:
    me = api.headers("counsellor", "counsellor-queue")
    first = await _start(api)
    api.clock.advance(seconds=1)
    second = await _start(api)
    assert ((await _view(api, first))["queue_position"], (await _view(api, second))["queue_position"]) == (
        1,
        2,
    )
    # Nobody has been taken yet: no estimate rather than a made-up one.
    assert (await _view(api, second))["wait_minutes"] is None

    api.clock.advance(minutes=4)
    assert (await api.client.post(f"/v1/chats/{first}/take", headers=me)).status_code == 200
    view = await _view(api, second)
    assert (view["queue_position"], view["wait_minutes"]) == (1, 5)


async def test_words_of_acute_risk_bring_the_crisis_numbers_at_once_and_put_the_chat_first(api: Any) -> None:
    gateway = api.headers("channel", "web-chat-gateway")
    me = api.headers("counsellor", "counsellor-risk")
    calm = await _start(api)
    api.clock.advance(seconds=5)
    urgent = await _start(api)
    wrote = await api.client.post(
        f"/v1/web-chats/{urgent}/messages", json={"text": "もう死にたいです"}, headers=gateway
    )
    assert wrote.status_code == 204

    view = await _view(api, urgent)
    assert view["acute_risk"] is True and view["queue_position"] == 1
    assert "110" in view["messages"][-1]["text"] and "119" in view["messages"][-1]["text"]
    assert (await _view(api, calm))["queue_position"] == 2
    waiting = (await api.client.get("/v1/chats", params={"state": "waiting"}, headers=me)).json()
    assert [c["id"] for c in waiting] == [urgent, calm]
    assert waiting[0]["acute_risk_at"] is not None and waiting[1]["acute_risk_at"] is None

    # The numbers come once; the mark stays.
    await api.client.post(f"/v1/web-chats/{urgent}/messages", json={"text": "消えたい"}, headers=gateway)
    texts = [m["text"] for m in (await _view(api, urgent))["messages"] if m["sender"] == "bot"]
    assert sum("110" in t for t in texts) == 1


async def test_a_chinese_chat_consents_with_a_tap_is_recorded_then_ended_with_a_handoff_farewell(
    api: Any,
) -> None:
    gateway = api.headers("channel", "web-chat-gateway")
    me = api.headers("counsellor", "counsellor-zh")
    chat_id = await _start(api, topic="FOREIGN_LANG", language="zh")
    view = await _view(api, chat_id)
    assert view["language"] == "zh" and view["messages"][0]["text"].startswith("谢谢。正在为您连接咨询员")
    waiting = (await api.client.get("/v1/chats", params={"state": "waiting"}, headers=me)).json()
    assert waiting[0]["language"] == "zh" and waiting[0]["channel"] == "web"

    await api.client.post(f"/v1/chats/{chat_id}/take", headers=me)
    asked = await api.client.post(
        f"/v1/chats/{chat_id}/consent-request", json={"items": ["contact", "summary"]}, headers=me
    )
    assert asked.status_code == 201, asked.text
    question = (await _view(api, chat_id))["consent_question"]
    assert question["id"] == asked.json()["id"]
    assert question["agree"] == "可以转告" and any("转告对象" in line for line in question["lines"])
    assert any("姓名、电话号码和地址" in line for line in question["lines"])

    stale = await api.client.post(
        f"/v1/web-chats/{chat_id}/consent", json={"request": "older", "decision": "given"}, headers=gateway
    )
    assert stale.status_code == 409
    tapped = await api.client.post(
        f"/v1/web-chats/{chat_id}/consent",
        json={"request": question["id"], "decision": "given"},
        headers=gateway,
    )
    assert tapped.status_code == 204
    view = await _view(api, chat_id)
    assert view["consent_question"] is None and view["messages"][-1]["text"].startswith("谢谢您的同意")

    recorded = await api.client.post(
        f"/v1/chats/{chat_id}/close", json={**S3_WITH_FOLLOW_UP, "end_chat": False}, headers=me
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["consent"]["method"] == "chat_click"
    chat = (await api.client.get(f"/v1/chats/{chat_id}", headers=me)).json()
    assert (chat["state"], chat["farewell"]) == ("active", "handoff_s3")
    # Recorded but not ended: the person can still write, and a repeat records nothing new.
    more = await api.client.post(f"/v1/web-chats/{chat_id}/messages", json={"text": "谢谢"}, headers=gateway)
    assert more.status_code == 204
    again = await api.client.post(
        f"/v1/chats/{chat_id}/close", json={**S3_WITH_FOLLOW_UP, "end_chat": False}, headers=me
    )
    assert again.status_code == 200 and again.json()["id"] == recorded.json()["id"]

    ended = await api.client.post(f"/v1/chats/{chat_id}/end", headers=me)
    assert ended.status_code == 200 and ended.json()["closed_reason"] == "consultation"
    view = await _view(api, chat_id)
    farewell = [m["text"] for m in view["messages"][-2:]]
    assert farewell[0].startswith("您所在地区的支援机构会联系您。通常在几个小时以内。")
    assert "110" in farewell[1] and "119" in farewell[1] and "#9999" in farewell[1]
    closed = await api.client.post(f"/v1/web-chats/{chat_id}/messages", json={"text": "x"}, headers=gateway)
    assert closed.status_code == 409
    assert (await api.client.post(f"/v1/chats/{chat_id}/end", headers=me)).status_code == 200


async def test_a_chat_ended_without_a_record_tells_the_person_where_to_turn_next(api: Any) -> None:
    me = api.headers("counsellor", "counsellor-next")
    chat_id = await _start(api, language="en")
    await api.client.post(f"/v1/chats/{chat_id}/take", headers=me)
    ended = await api.client.post(f"/v1/chats/{chat_id}/end", headers=me)
    assert ended.status_code == 200 and ended.json()["closed_reason"] == "counsellor_ended"
    view = await _view(api, chat_id)
    assert view["state"] == "closed" and view["messages"][-1]["text"].startswith(
        "Thank you for talking with us."
    )


async def test_a_person_who_leaves_while_talking_closes_the_chat_and_the_counsellor_can_still_record_it(
    api: Any,
) -> None:
    gateway = api.headers("channel", "web-chat-gateway")
    me = api.headers("counsellor", "counsellor-left")
    chat_id = await _start(api)
    await api.client.post(f"/v1/chats/{chat_id}/take", headers=me)
    assert (await api.client.post(f"/v1/web-chats/{chat_id}/leave", headers=gateway)).status_code == 204

    chat = (await api.client.get(f"/v1/chats/{chat_id}", headers=me)).json()
    assert (chat["state"], chat["closed_reason"]) == ("closed", "user_left")
    assert chat["transcript"][-1]["text"].startswith("チャットを終了しました")
    refused = await api.client.post(
        f"/v1/chats/{chat_id}/messages", json={"text": "まだいますか"}, headers=me
    )
    assert refused.status_code == 409
    recorded = await api.client.post(
        f"/v1/chats/{chat_id}/close",
        json={"municipality_code": "131041", "severity": "S1", "summary": "途中で終了"},
        headers=me,
    )
    assert recorded.status_code == 201, recorded.text
    assert (await _view(api, chat_id))["state"] == "closed"
