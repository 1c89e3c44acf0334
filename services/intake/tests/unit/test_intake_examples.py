"""The signed examples newcomers copy: what `python -m intake sign-example` prints verifies."""

import json
import shlex
import urllib.parse

import pytest

from intake.__main__ import main
from intake.examples import line_curl, phone_curl, sample_voice_menu
from intake.signatures import line_signature_valid, twilio_signature_valid


def _parts(curl: str) -> list[str]:
    return shlex.split(curl.replace("\\\n", " "))


def _header(parts: list[str], name: str) -> str:
    return next(p.split(": ", 1)[1] for p in parts if p.startswith(f"{name}: "))


def test_the_phone_example_is_a_form_signed_over_the_url_and_its_parameters() -> None:
    parts = _parts(
        phone_curl("auth-token", "https://intake.example.jp", digits="9", call_sid="CA" + "1" * 32)
    )
    url = parts[parts.index("-X") + 2]
    body = parts[parts.index("--data") + 1]
    params = urllib.parse.parse_qsl(body, keep_blank_values=True)
    assert url == "https://intake.example.jp/v1/channels/phone/voice"
    assert ("Digits", "9") in params and ("CallSid", "CA" + "1" * 32) in params
    assert twilio_signature_valid("auth-token", url, params, _header(parts, "X-Twilio-Signature"))


def test_the_line_example_signs_exactly_the_bytes_it_sends() -> None:
    parts = _parts(line_curl("channel-secret", "http://127.0.0.1:8101", text="こんにちは"))
    body = parts[parts.index("--data-binary") + 1].encode()
    assert line_signature_valid("channel-secret", body, _header(parts, "X-Line-Signature"))
    assert json.loads(body)["events"][0]["message"]["text"] == "こんにちは"


def test_the_command_prints_a_curl_and_asks_for_a_missing_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INTAKE_LINE_CHANNEL_SECRET", raising=False)
    monkeypatch.delenv("INTAKE_PUBLIC_BASE_URL", raising=False)
    assert main(["sign-example", "line"]) == 2
    assert "INTAKE_LINE_CHANNEL_SECRET" in capsys.readouterr().err
    assert main(["sign-example", "phone", "--secret", "s3cret", "--digits", "3"]) == 0
    assert capsys.readouterr().out.startswith(
        "curl -sS -X POST http://127.0.0.1:8101/v1/channels/phone/voice"
    )


def test_the_sample_menu_names_the_published_digits() -> None:
    menu = sample_voice_menu("00000000-0000-0000-0000-000000000001")
    digits = {o["digit"]: o["topic"] for o in menu["options"]}
    assert digits["9"] == "LONELY" and digits["3"] == "SUICIDAL"
