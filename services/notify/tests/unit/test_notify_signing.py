import base64
import hashlib
import hmac
import json
import time

import pytest
import standardwebhooks

from notify.partners.domain import new_webhook_secret
from notify.signing import signature, signature_header, verify_signature
from notify.webhook import webhook_headers

SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"
BODY = b'{"type":"handoff.offered.v1","delivery_id":"r:o:1"}'
NOW = 1_750_000_000


def test_the_signature_is_hex_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert signature(SECRET, NOW, BODY) == expected
    assert signature_header([SECRET], NOW, BODY) == f"v1={expected}"


def test_a_correctly_signed_fresh_request_verifies() -> None:
    header = signature_header([SECRET], NOW, BODY)

    assert verify_signature(SECRET, str(NOW), BODY, header, now=NOW + 5, tolerance=300)


def test_a_signature_made_with_another_secret_is_rejected() -> None:
    header = signature_header(["whsec_someone_else"], NOW, BODY)

    assert not verify_signature(SECRET, str(NOW), BODY, header, now=NOW, tolerance=300)


def test_a_tampered_body_is_rejected() -> None:
    header = signature_header([SECRET], NOW, BODY)
    tampered = BODY.replace(b"r:o:1", b"r:o:2")

    assert not verify_signature(SECRET, str(NOW), tampered, header, now=NOW, tolerance=300)


def test_a_timestamp_older_than_the_tolerance_is_rejected_as_a_replay() -> None:
    header = signature_header([SECRET], NOW, BODY)

    assert verify_signature(SECRET, str(NOW), BODY, header, now=NOW + 300, tolerance=300)
    assert not verify_signature(SECRET, str(NOW), BODY, header, now=NOW + 301, tolerance=300)


def test_a_timestamp_far_in_the_future_is_rejected() -> None:
    header = signature_header([SECRET], NOW, BODY)

    assert not verify_signature(SECRET, str(NOW), BODY, header, now=NOW - 301, tolerance=300)


def test_a_replay_with_a_fresh_timestamp_but_the_old_signature_is_rejected() -> None:
    old_header = signature_header([SECRET], NOW, BODY)
    later = NOW + 3600

    assert not verify_signature(SECRET, str(later), BODY, old_header, now=later, tolerance=300)


def test_during_a_rotation_either_secret_verifies_the_header_with_two_values() -> None:
    header = signature_header([SECRET, OLD_SECRET], NOW, BODY)

    assert header.count("v1=") == 2
    assert verify_signature(SECRET, str(NOW), BODY, header, now=NOW, tolerance=300)
    assert verify_signature(OLD_SECRET, str(NOW), BODY, header, now=NOW, tolerance=300)
    assert not verify_signature("whsec_unrelated", str(NOW), BODY, header, now=NOW, tolerance=300)


def test_values_of_other_schemes_are_ignored() -> None:
    digest = signature(SECRET, NOW, BODY)

    assert not verify_signature(SECRET, str(NOW), BODY, f"v0={digest}", now=NOW, tolerance=300)
    assert verify_signature(SECRET, str(NOW), BODY, f"v0=abc, v1={digest}", now=NOW, tolerance=300)


@pytest.mark.parametrize("timestamp", ["", "abc", "-5", "1.5", "١٢٣"])
def test_a_malformed_timestamp_is_rejected(timestamp: str) -> None:
    header = signature_header([SECRET], NOW, BODY)

    assert not verify_signature(SECRET, timestamp, BODY, header, now=NOW, tolerance=300)


def test_a_garbage_signature_header_is_rejected_without_an_error() -> None:
    for header in ("", "v1=", "v1=zz", "v1=é", "nonsense"):
        assert not verify_signature(SECRET, str(NOW), BODY, header, now=NOW, tolerance=300)


def test_signing_needs_at_least_one_secret() -> None:
    with pytest.raises(ValueError):
        signature_header([], NOW, BODY)


def test_webhook_headers_carry_what_a_partner_needs_to_verify_and_deduplicate() -> None:
    headers = webhook_headers(delivery_id="r:o:1", secrets=[SECRET], timestamp=NOW, body=BODY)

    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "tsunagu-notify/1"
    assert headers["Tsunagu-Delivery-Id"] == "r:o:1"
    assert headers["Tsunagu-Timestamp"] == str(NOW)
    assert verify_signature(
        SECRET, headers["Tsunagu-Timestamp"], BODY, headers["Tsunagu-Signature"], now=NOW, tolerance=300
    )


# ---- Standard Webhooks, verified by its own library -------------------------------------------


def _standard(secrets: list[str], delivery_id: str = "r:o:1", body: bytes = BODY) -> dict[str, str]:
    return webhook_headers(delivery_id=delivery_id, secrets=secrets, timestamp=int(time.time()), body=body)


def test_the_standardwebhooks_library_verifies_a_delivery_with_the_secret_as_issued() -> None:
    secret = new_webhook_secret()
    headers = _standard([secret])
    assert headers["webhook-id"] == "r:o:1"
    assert standardwebhooks.Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_the_delivery_id_is_signed_a_swapped_one_fails() -> None:
    secret = new_webhook_secret()
    headers = {**_standard([secret]), "webhook-id": "r:o:2"}
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(BODY, headers)


def test_a_tampered_body_or_another_secret_fails_the_library() -> None:
    secret = new_webhook_secret()
    headers = _standard([secret])
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(BODY.replace(b"offered", b"declined"), headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_webhook_secret()).verify(BODY, headers)


def test_during_a_rotation_the_library_accepts_either_secret() -> None:
    old, new = new_webhook_secret(), new_webhook_secret()
    headers = _standard([new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        standardwebhooks.Webhook(secret).verify(BODY, headers)


def test_a_secret_issued_before_the_standard_verifies_once_given_in_standard_base64() -> None:
    raw = bytes(range(200, 232))  # bytes whose base64url has "-" and "_"
    old = "whsec_" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert "-" in old or "_" in old
    converted = "whsec_" + base64.b64encode(raw).decode()
    standardwebhooks.Webhook(converted).verify(BODY, _standard([old]))
