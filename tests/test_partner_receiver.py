"""The partners' reference receiver (deploy/local/partner_receiver.py) accepts what notify signs —
the Standard Webhooks headers, and the older ones alone during the transition — and refuses a
wrong secret, a stale timestamp and a swapped delivery id. Signed here with notify's own code."""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from partner_receiver import make_server  # deploy/local is on the path (tests/stack_plugin.py)

from notify.signing import signature, standard_signature_header

pytestmark = pytest.mark.unit

ORGANISATION = str(uuid.uuid4())
SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtcmVmZXJlbmNlLXJlY2VpdmVy"
BODY = json.dumps({"type": "handoff.offered", "referral_id": str(uuid.uuid4())}).encode()


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "receiver").mkdir()
    (tmp_path / "receiver" / "secrets.json").write_text(json.dumps({ORGANISATION: SECRET}))
    server = make_server("127.0.0.1", 0, tmp_path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/{ORGANISATION}"
    finally:
        server.shutdown()
        server.server_close()


def post(url: str, headers: dict[str, str], body: bytes = BODY) -> tuple[int, Any]:
    response = httpx.post(url, content=body, headers=headers, timeout=5)
    return response.status_code, response.json()


def standard(delivery_id: str, timestamp: int, secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature_header([secret], delivery_id, timestamp, body),
    }


def test_a_standard_webhook_from_notify_is_accepted_once_and_a_retry_is_answered_but_not_recorded(
    url: str,
) -> None:
    delivery = str(uuid.uuid4())
    now = int(time.time())
    assert post(url, standard(delivery, now)) == (200, {"status": "received", "delivery_id": delivery})
    assert post(url, standard(delivery, now)) == (200, {"status": "duplicate", "delivery_id": delivery})


def test_during_a_rotation_one_matching_signature_among_several_is_enough(url: str) -> None:
    delivery, now = str(uuid.uuid4()), int(time.time())
    headers = standard(delivery, now)
    headers["webhook-signature"] = standard_signature_header(
        ["whsec_b2xkLXNlY3JldA", SECRET], delivery, now, BODY
    )
    assert post(url, headers)[0] == 200


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"secret": "whsec_d3Jvbmctc2VjcmV0"}, 401, "signature does not match"),
        ({"age_s": 600}, 401, "timestamp outside the 300 s replay window"),
        ({"swap_id": True}, 401, "signature does not match"),
        ({"tamper": True}, 401, "signature does not match"),
    ],
    ids=["wrong secret", "stale timestamp", "delivery id swapped", "body altered"],
)
def test_a_forged_stale_or_altered_delivery_is_refused(
    url: str, change: dict[str, Any], status: int, error: str
) -> None:
    delivery, now = str(uuid.uuid4()), int(time.time()) - change.get("age_s", 0)
    headers = standard(delivery, now, secret=change.get("secret", SECRET))
    if change.get("swap_id"):
        headers["webhook-id"] = str(uuid.uuid4())  # a retry slipped past deduplication
    body = BODY + b" " if change.get("tamper") else BODY
    assert post(url, headers, body) == (status, {"error": error})


def test_the_older_headers_alone_are_still_accepted_during_the_transition(url: str) -> None:
    delivery, now = str(uuid.uuid4()), int(time.time())
    headers = {
        "Tsunagu-Delivery-Id": delivery,
        "Tsunagu-Timestamp": str(now),
        "Tsunagu-Signature": f"v1={signature(SECRET, now, BODY)}",
    }
    assert post(url, headers) == (200, {"status": "received", "delivery_id": delivery})
