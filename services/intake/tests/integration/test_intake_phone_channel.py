"""The phone channel through the real app and database: Twilio-shaped signed requests in, TwiML out,
voice menus versioned and activated by operators, call legs completed into consultations."""

import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from intake.signatures import twilio_signature

from ..builders import CONSENT_BODY, consultation_body

# The api fixture (conftest.py) is the app on its own database; these are the secrets it was given.
Api = Any
PUBLIC_BASE_URL = "https://intake.example.jp"
TWILIO_TOKEN = "test-twilio-auth-token"

DESK_ORG = uuid.uuid4()
CALLER = "+819012345678"
HOTLINE = "+81120999999"


def menu_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "campaign": "gw-2026",
        "greeting": "孤独・孤立相談ダイヤルです",
        "options": [
            {
                "digit": "9",
                "topic": "LONELY",
                "label": "孤独・孤立に悩んでいる方",
                "desk": {
                    "organisation_id": str(DESK_ORG),
                    "number": "03-1234-5678",
                    "hours": {"always": True},
                },
            },
            {
                "digit": "4",
                "topic": "SOGI",
                "label": "性別の違和等に関して相談したい方",
                # 2026-05-03 03:00 UTC is 12:00 in Japan: this desk is closed then.
                "desk": {
                    "organisation_id": str(DESK_ORG),
                    "number": "03-1234-5679",
                    "hours": {"windows": [{"start": "18:00", "end": "02:00"}]},
                },
            },
            {"digit": "5", "topic": "DISASTER", "label": "被災していて相談したい方"},
        ],
    }
    body.update(changes)
    return body


async def activate(api: Api, **changes: Any) -> dict[str, Any]:
    operator = api.headers("operator")
    created = await api.client.post("/v1/voice-menus", json=menu_body(**changes), headers=operator)
    assert created.status_code == 201, created.text
    menu = created.json()
    activated = await api.client.post(f"/v1/voice-menus/{menu['id']}/activate", headers=operator)
    assert activated.status_code == 200, activated.text
    return dict(activated.json())


def signed(path: str, params: list[tuple[str, str]], token: str = TWILIO_TOKEN) -> dict[str, Any]:
    """A request as Twilio sends it: form-encoded, signed over the full public URL and the params."""
    return {
        "content": urllib.parse.urlencode(params),
        "headers": {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(token, PUBLIC_BASE_URL + path, params),
        },
    }


def call_params(call_sid: str, **extra: str) -> list[tuple[str, str]]:
    params = [
        ("AccountSid", "AC" + "0" * 32),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", "in-progress" if "Digits" in extra else "ringing"),
        ("Called", HOTLINE),
        ("Caller", CALLER),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("FromCountry", "JP"),
        ("To", HOTLINE),
    ]
    return params + list(extra.items())


async def post(api: Api, path: str, params: list[tuple[str, str]]) -> httpx.Response:
    return await api.client.post(path, **signed(path, params))


def xml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.text)  # noqa: S314 - our own answer


def new_call() -> str:
    return "CA" + uuid.uuid4().hex


async def test_an_incoming_call_hears_the_active_menu_in_japanese_and_gathers_one_digit(api: Api) -> None:
    menu = await activate(api)
    root = xml(await post(api, "/v1/channels/phone/voice", call_params(new_call())))
    gather = root.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert gather.get("action") == "/v1/channels/phone/voice" and gather.get("method") == "POST"
    say = gather.find("Say")
    assert say is not None and say.get("language") == "ja-JP"
    assert say.text == menu["prompt"]
    assert "孤独・孤立に悩んでいる方は、9を押してください。" in (say.text or "")
    redirect = root.find("Redirect")
    assert redirect is not None and redirect.text == "/v1/channels/phone/voice?silence=1"


async def test_a_digit_for_an_open_desk_dials_the_desk_and_the_leg_records_the_choice(api: Api) -> None:
    menu = await activate(api)
    sid = new_call()
    await post(api, "/v1/channels/phone/voice", call_params(sid))
    root = xml(await post(api, "/v1/channels/phone/voice", call_params(sid, Digits="9")))
    say, dial = root.find("Say"), root.find("Dial")
    assert say is not None and say.text == "孤独・孤立に悩んでいる方の相談窓口におつなぎします。"
    assert dial is not None and dial.get("action") == "/v1/channels/phone/voice/dial-status"
    number = dial.find("Number")
    assert number is not None and number.text == "+81312345678"

    legs = (await api.client.get("/v1/channels/phone/legs", headers=api.headers("counsellor"))).json()
    [leg] = [leg for leg in legs if leg["call_sid"] == sid]
    assert (leg["digit"], leg["topic"], leg["routed_to"], leg["route_reason"]) == (
        "9",
        "LONELY",
        "desk",
        "open",
    )
    assert leg["menu_id"] == menu["id"] and leg["desk_organisation_id"] == str(DESK_ORG)
    assert leg["caller"] is None  # not in lists
    one = (
        await api.client.get(f"/v1/channels/phone/legs/{leg['id']}", headers=api.headers("counsellor"))
    ).json()
    assert one["caller"] == CALLER and one["started_at"] and one["chosen_at"]


@pytest.mark.parametrize(
    ("digit", "reason", "said"),
    [
        ("4", "closed", "ただいま性別の違和等に関して相談したい方の窓口は受付時間外です。"),
        ("5", "no_desk", "別の相談窓口におつなぎします。"),
    ],
)
async def test_a_closed_or_unstaffed_desk_sends_the_caller_to_the_fallback_number(
    api: Api, digit: str, reason: str, said: str
) -> None:
    await activate(api)
    sid = new_call()
    root = xml(await post(api, "/v1/channels/phone/voice", call_params(sid, Digits=digit)))
    say, number = root.find("Say"), root.find("Dial/Number")
    assert say is not None and (say.text or "").startswith(said)
    assert number is not None and number.text == "+81120494949"  # 0120-494949
    dial = root.find("Dial")
    assert dial is not None and dial.get("action") == "/v1/channels/phone/voice/dial-status?to=fallback"
    leg = await api.pool.fetchrow("SELECT routed_to, route_reason FROM call_legs WHERE call_sid = $1", sid)
    assert leg is not None and (leg["routed_to"], leg["route_reason"]) == ("fallback", reason)


async def test_a_wrong_digit_or_silence_reads_the_menu_again_then_falls_back(api: Api) -> None:
    await activate(api)
    sid = new_call()
    await post(api, "/v1/channels/phone/voice", call_params(sid))
    again = xml(await post(api, "/v1/channels/phone/voice", call_params(sid, Digits="7")))
    say = again.find("Gather/Say")
    assert say is not None and (say.text or "").startswith("その番号はございません。")
    root = xml(await post(api, "/v1/channels/phone/voice?silence=1", call_params(sid)))
    number = root.find("Dial/Number")
    assert number is not None and number.text == "+81120494949"
    assert (
        await api.pool.fetchval("SELECT route_reason FROM call_legs WHERE call_sid = $1", sid) == "no_choice"
    )


async def test_a_busy_desk_falls_back_once_and_the_call_end_is_recorded(api: Api) -> None:
    await activate(api)
    sid = new_call()
    await post(api, "/v1/channels/phone/voice", call_params(sid, Digits="9"))
    busy = call_params(sid, DialCallStatus="busy", DialCallDuration="0")
    root = xml(await post(api, "/v1/channels/phone/voice/dial-status", busy))
    number = root.find("Dial/Number")
    assert number is not None and number.text == "+81120494949"
    api.clock.advance(minutes=12)
    done = call_params(sid, DialCallStatus="completed", DialCallDuration="700")
    ended = xml(await post(api, "/v1/channels/phone/voice/dial-status?to=fallback", done))
    assert list(ended) == []
    leg = await api.pool.fetchrow("SELECT * FROM call_legs WHERE call_sid = $1", sid)
    assert leg is not None
    assert (leg["routed_to"], leg["route_reason"], leg["dial_status"]) == (
        "fallback",
        "desk_unanswered",
        "completed",
    )
    assert leg["ended_at"] == api.clock.now


async def test_without_an_active_menu_callers_reach_the_fallback_number(api: Api) -> None:
    root = xml(await post(api, "/v1/channels/phone/voice", call_params(new_call())))
    number = root.find("Dial/Number")
    assert number is not None and number.text == "+81120494949"


async def test_menus_are_versioned_per_campaign_and_a_call_keeps_the_version_it_started_with(
    api: Api,
) -> None:
    first = await activate(api)
    sid = new_call()
    await post(api, "/v1/channels/phone/voice", call_params(sid))
    second = await activate(api, greeting="年末年始の相談ダイヤルです")
    assert (first["version"], second["version"]) == (1, 2) and second["active"]
    other = await api.client.post(
        "/v1/voice-menus", json=menu_body(campaign="nenmatsu-2026"), headers=api.headers("operator")
    )
    assert other.json()["version"] == 1
    await post(api, "/v1/channels/phone/voice", call_params(sid, Digits="9"))
    assert await api.pool.fetchval("SELECT menu_id FROM call_legs WHERE call_sid = $1", sid) == uuid.UUID(
        first["id"]
    )
    active = await api.client.get("/v1/voice-menus/active", headers=api.headers("counsellor"))
    assert active.json()["id"] == second["id"]
    listed = await api.client.get(
        "/v1/voice-menus", params={"campaign": "gw-2026"}, headers=api.headers("operator")
    )
    assert [(m["version"], m["active"]) for m in listed.json()] == [(2, True), (1, False)]


async def test_only_operators_change_menus_and_bad_menus_get_a_clear_422(api: Api) -> None:
    counsellor = await api.client.post("/v1/voice-menus", json=menu_body(), headers=api.headers("counsellor"))
    assert counsellor.status_code == 403
    anonymous = await api.client.post("/v1/voice-menus", json=menu_body())
    assert anonymous.status_code == 401
    cases = [
        ({"campaign": "GW 2026"}, "body.campaign"),
        ({"options": []}, "body.options"),
        ({"fallback_number": "911"}, "body.fallback_number"),
    ]
    for change, field in cases:
        response = await api.client.post(
            "/v1/voice-menus", json=menu_body(**change), headers=api.headers("operator")
        )
        assert response.status_code == 422
        assert field in [d["field"] for d in response.json()["error"]["details"]]
    twice = menu_body()
    twice["options"].append({**twice["options"][0]})
    response = await api.client.post("/v1/voice-menus", json=twice, headers=api.headers("operator"))
    assert response.status_code == 422 and "digit" in response.json()["error"]["message"]
    missing = await api.client.post(
        f"/v1/voice-menus/{uuid.uuid4()}/activate", headers=api.headers("operator")
    )
    assert missing.status_code == 404


# ---- signatures and replays -----------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    ["no-signature", "wrong-token", "signed-for-another-url", "digits-changed-after-signing"],
)
async def test_a_request_without_a_valid_signature_is_refused_with_403_and_changes_nothing(
    api: Api, tamper: str
) -> None:
    await activate(api)
    sid = new_call()
    params = call_params(sid, Digits="9")
    request = signed("/v1/channels/phone/voice", params)
    if tamper == "no-signature":
        del request["headers"]["X-Twilio-Signature"]
    elif tamper == "wrong-token":
        request = signed("/v1/channels/phone/voice", params, token="not-the-token")
    elif tamper == "signed-for-another-url":
        request["headers"]["X-Twilio-Signature"] = twilio_signature(
            TWILIO_TOKEN, "https://elsewhere.example/v1/channels/phone/voice", params
        )
    else:
        request["content"] = urllib.parse.urlencode(call_params(sid, Digits="4"))
    response = await api.client.post("/v1/channels/phone/voice", **request)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert CALLER not in response.text
    assert await api.pool.fetchval("SELECT count(*) FROM call_legs") == 0


async def test_a_replayed_request_gets_the_same_answer_and_has_no_second_effect(api: Api) -> None:
    await activate(api)
    sid = new_call()
    first = await post(api, "/v1/channels/phone/voice", call_params(sid))
    again = await post(api, "/v1/channels/phone/voice", call_params(sid))
    assert first.text == again.text
    chosen = await post(api, "/v1/channels/phone/voice", call_params(sid, Digits="9"))
    api.clock.advance(hours=8)  # replayed later, when the evening desk would be open
    replayed = await post(api, "/v1/channels/phone/voice", call_params(sid, Digits="4"))
    assert replayed.text == chosen.text  # the call already went to desk 9
    assert await api.pool.fetchval("SELECT count(*) FROM call_legs") == 1
    assert await api.pool.fetchval("SELECT digit FROM call_legs WHERE call_sid = $1", sid) == "9"


async def test_webhook_input_other_than_a_signed_form_gets_a_clear_4xx(api: Api) -> None:
    as_json = await api.client.post("/v1/channels/phone/voice", json={"CallSid": "CA1"})
    assert as_json.status_code == 415
    no_sid = await post(api, "/v1/channels/phone/voice", [("From", CALLER)])
    assert no_sid.status_code == 400 and CALLER not in no_sid.text


# ---- from a call to a consultation ----------------------------------------------------------


def completing(leg_id: str, **changes: Any) -> dict[str, Any]:
    """The consultation a counsellor records to complete the call leg `leg_id`."""
    body = consultation_body(
        call_leg_id=leg_id,
        risk={"safe_place_tonight": False, "distress": True},
        consent=CONSENT_BODY,
        summary="今夜泊まる場所がない、と話す",
        contact={"name": "試験 太郎", "phone": "090-1234-5678"},
        need_tags=["HOU", "ISO"],
        age_band="30-64",
    )
    return body | changes


async def test_a_counsellor_completes_a_call_leg_into_a_consultation_that_names_the_menu_and_choice(
    api: Api,
) -> None:
    menu = await activate(api)
    sid = new_call()
    await post(api, "/v1/channels/phone/voice", call_params(sid))
    await post(api, "/v1/channels/phone/voice", call_params(sid, Digits="9"))
    leg_id = str(await api.pool.fetchval("SELECT id FROM call_legs WHERE call_sid = $1", sid))
    counsellor = api.headers("counsellor")

    created = await api.client.post("/v1/consultations", json=completing(leg_id), headers=counsellor)
    assert created.status_code == 201, created.text
    consultation = created.json()
    assert consultation["entry"] == {
        "call_leg_id": leg_id,
        "chat_id": None,
        "menu_id": menu["id"],
        "menu_digit": "9",
    }
    assert consultation["severity"] == "S3" and consultation["lawful_basis"] == "CONSENT"
    decision = consultation["severity_decision"]
    assert decision["rule_version"] == "2026-11-v1" and decision["computed"] == "S3"
    assert "S3.no_safe_place_tonight" in decision["flags"]
    assert consultation["consent"]["method"] == "recorded_line"

    again = await api.client.post("/v1/consultations", json=completing(leg_id), headers=counsellor)
    assert again.status_code == 409 and again.json()["error"]["code"] == "call_leg_completed"
    chat = await api.client.post(
        "/v1/consultations", json=completing(leg_id, channel="chat"), headers=counsellor
    )
    assert chat.status_code == 422
    open_legs = (await api.client.get("/v1/channels/phone/legs", headers=counsellor)).json()
    assert leg_id not in [leg["id"] for leg in open_legs]
    unknown = await api.client.post(
        "/v1/consultations", json=completing(str(uuid.uuid4())), headers=counsellor
    )
    assert unknown.status_code == 404


async def test_a_call_leg_is_not_completed_into_an_abolished_or_unknown_area(api: Api) -> None:
    await activate(api)
    sid = new_call()
    await post(api, "/v1/channels/phone/voice", call_params(sid))
    leg_id = str(await api.pool.fetchval("SELECT id FROM call_legs WHERE call_sid = $1", sid))
    counsellor = api.headers("counsellor")

    # 浜松市中区 (221317) became part of 浜松市中央区 (221384) in 2024.
    abolished = await api.client.post(
        "/v1/consultations", json=completing(leg_id, municipality_code="221317"), headers=counsellor
    )
    assert abolished.status_code == 422, abolished.text
    error = abolished.json()["error"]
    assert error["code"] == "abolished_municipality" and "221384" in error["message"]
    unknown = await api.client.post(
        "/v1/consultations", json=completing(leg_id, municipality_code="139998"), headers=counsellor
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_municipality"
    open_legs = (await api.client.get("/v1/channels/phone/legs", headers=counsellor)).json()
    assert leg_id in [leg["id"] for leg in open_legs]

    completed = await api.client.post(
        "/v1/consultations", json=completing(leg_id, municipality_code="221384"), headers=counsellor
    )
    assert completed.status_code == 201, completed.text


async def test_the_callers_number_is_stored_only_encrypted(api: Api) -> None:
    await activate(api)
    await post(api, "/v1/channels/phone/voice", call_params(new_call()))
    raw = await api.pool.fetchval("SELECT caller_enc FROM call_legs")
    assert raw.startswith("v1.k1.") and CALLER not in raw
    dumped = str([dict(r) for r in await api.pool.fetch("SELECT * FROM call_legs")])
    assert CALLER not in dumped and "9012345678" not in dumped
