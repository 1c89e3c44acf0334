"""Both providers' signatures: good ones pass, bad, missing and replayed-onto-other-bytes ones fail."""

import base64
import hashlib
import hmac

import pytest

from intake.signatures import (
    line_signature,
    line_signature_valid,
    pseudonym,
    twilio_signature,
    twilio_signature_valid,
)

# Twilio's own published test vector (twilio-ruby's request validator spec).
TWILIO_TOKEN = "2bd9e9638872de601313dc77410d3b23"
TWILIO_URL = "http://twiliotests.heroku.com/validate/voice"
TWILIO_PARAMS = {
    "ToState": "California",
    "CalledState": "California",
    "Direction": "inbound",
    "FromState": "CA",
    "AccountSid": "ACba8bc05eacf94afdae398e642c9cc32d",
    "Caller": "+14153595711",
    "CallerZip": "94108",
    "CallerCountry": "US",
    "From": "+14153595711",
    "FromCity": "SAN FRANCISCO",
    "CallerCity": "SAN FRANCISCO",
    "To": "+14157669926",
    "FromZip": "94108",
    "FromCountry": "US",
    "ToCity": "",
    "CallStatus": "ringing",
    "CalledCity": "",
    "CallerState": "CA",
    "CalledZip": "",
    "ToZip": "",
    "ToCountry": "US",
    "CallSid": "CA136d09cd59a3c0ec8dbff44da5c03f31",
    "CalledCountry": "US",
    "Called": "+14157669926",
    "ApiVersion": "2010-04-01",
    "ApplicationSid": "AP44efecad51364e80b133bb7c07eb8204",
}
TWILIO_SIGNATURE = "oVb2kXoVy8GEfwBDjR8bk/ZZ6eA="


def test_the_twilio_signature_matches_twilios_published_vector() -> None:
    params = list(TWILIO_PARAMS.items())
    assert twilio_signature(TWILIO_TOKEN, TWILIO_URL, params) == TWILIO_SIGNATURE
    assert twilio_signature_valid(TWILIO_TOKEN, TWILIO_URL, params, TWILIO_SIGNATURE)


def test_the_parameter_order_of_the_body_does_not_matter() -> None:
    shuffled = list(reversed(TWILIO_PARAMS.items()))
    assert twilio_signature_valid(TWILIO_TOKEN, TWILIO_URL, shuffled, TWILIO_SIGNATURE)


@pytest.mark.parametrize(
    ("token", "url", "change", "signature"),
    [
        ("another-token-entirely-000000000", TWILIO_URL, {}, TWILIO_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL + "?silence=1", {}, TWILIO_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL, {"Digits": "3"}, TWILIO_SIGNATURE),  # a captured signature on new input
        (TWILIO_TOKEN, TWILIO_URL, {"From": "+819011112222"}, TWILIO_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL, {}, ""),
        (TWILIO_TOKEN, TWILIO_URL, {}, None),
        (TWILIO_TOKEN, TWILIO_URL, {}, "oVb2kXoVy8GEfwBDjR8bk/ZZ6eB="),
    ],
    ids=[
        "wrong-token",
        "other-url",
        "replayed-onto-other-digits",
        "changed-caller",
        "empty",
        "missing",
        "one-bit",
    ],
)
def test_a_bad_missing_or_replayed_twilio_signature_fails(
    token: str, url: str, change: dict[str, str], signature: str | None
) -> None:
    params = list({**TWILIO_PARAMS, **change}.items())
    assert not twilio_signature_valid(token, url, params, signature)


def test_a_proxy_adding_or_dropping_the_default_port_still_verifies() -> None:
    url = "https://intake.example.jp/v1/channels/phone/voice"
    params = [("CallSid", "CA" + "1" * 32)]
    signed_with_port = twilio_signature(
        "t0ken", "https://intake.example.jp:443/v1/channels/phone/voice", params
    )
    assert twilio_signature_valid("t0ken", url, params, signed_with_port)
    signed_without = twilio_signature("t0ken", url, params)
    assert twilio_signature_valid(
        "t0ken", "https://intake.example.jp:443/v1/channels/phone/voice", params, signed_without
    )


def test_repeated_parameters_are_signed_sorted_by_value() -> None:
    params = [("B", "2"), ("A", "z"), ("A", "a")]
    expected = base64.b64encode(hmac.new(b"k", b"https://x/yAaAzB2", hashlib.sha1).digest()).decode()
    assert twilio_signature("k", "https://x/y", params) == expected


BODY = '{"destination":"U0","events":[{"type":"message","message":{"type":"text","id":"1","text":"こんにちは"}}]}'.encode()


def test_the_line_signature_is_hmac_sha256_of_the_raw_body_in_base64() -> None:
    expected = base64.b64encode(hmac.new(b"channel-secret", BODY, hashlib.sha256).digest()).decode()
    assert line_signature("channel-secret", BODY) == expected
    assert line_signature_valid("channel-secret", BODY, expected)


@pytest.mark.parametrize(
    ("secret", "body", "offered"),
    [
        ("another-secret", BODY, None),
        (
            "channel-secret",
            BODY.replace("こんにちは".encode(), "さようなら".encode()),
            None,
        ),  # replayed onto new bytes
        ("channel-secret", BODY + b" ", None),  # whitespace is part of the signed bytes
        ("channel-secret", BODY, ""),
        ("channel-secret", BODY, "not base64 at all"),
    ],
    ids=["wrong-secret", "replayed-onto-other-body", "reformatted-body", "empty", "garbage"],
)
def test_a_bad_missing_or_replayed_line_signature_fails(
    secret: str, body: bytes, offered: str | None
) -> None:
    signature = line_signature("channel-secret", BODY) if offered is None else offered
    assert not line_signature_valid(secret, body, signature)
    assert not line_signature_valid("channel-secret", BODY, None)


def test_pseudonyms_are_stable_per_key_and_purpose_and_reveal_nothing() -> None:
    user = "U" + "a" * 32
    assert pseudonym("k", user, purpose="line-user") == pseudonym("k", user, purpose="line-user")
    assert pseudonym("k", user, purpose="line-user") != pseudonym("k2", user, purpose="line-user")
    assert pseudonym("k", user, purpose="line-user") != pseudonym("k", user, purpose="other")
    assert user not in pseudonym("k", user, purpose="line-user")
