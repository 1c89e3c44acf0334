"""Webhook signatures: how notify signs a POST and how a partner verifies it.

Two schemes are sent side by side during the transition (see the README's partner section):

- **Standard Webhooks** (https://www.standardwebhooks.com), verified by the `standardwebhooks`
  libraries: `webhook-id` (the delivery id), `webhook-timestamp` (unix seconds) and
  `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one value per valid
  secret, space-separated. The key is the base64 text after `whsec_`, decoded. The delivery id is
  signed, so it cannot be swapped to slip a retry past deduplication.
- **Tsunagu-Signature** (deprecated; sent until every partner verifies the standard headers):

The signed bytes are `f"{timestamp}.".encode() + raw_body`; the signature is the hex
HMAC-SHA256 of them under the partner's secret (the whole `whsec_...` string, UTF-8 encoded).
The header reads `Tsunagu-Signature: v1=<hex>`; right after a secret rotation it carries one
`v1=` value per valid secret, comma-separated, and a match with any of them is enough.
Because the timestamp is signed, a partner that rejects old timestamps rejects replays.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

SCHEME = "v1"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix, not a secret)


def standard_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret, as the Standard Webhooks libraries derive it. Secrets
    issued before the standard were base64url: those are decoded in their own alphabet (a partner
    passes `whsec_` + the same bytes in standard base64 to the library, or rotates)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    decode = base64.urlsafe_b64decode if ("-" in encoded or "_" in encoded) else base64.b64decode
    try:
        key = decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        key = b""
    return key or secret.encode("utf-8")


def standard_signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` and the base64 HMAC-SHA256 of `"<delivery id>.<timestamp>." + body`."""
    message = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), message, hashlib.sha256).digest()
    return f"{SCHEME},{base64.b64encode(digest).decode('ascii')}"


def standard_signature_header(secrets: Sequence[str], delivery_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one `v1,` signature per valid secret, space-separated."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    return " ".join(standard_signature(secret, delivery_id, timestamp, body) for secret in secrets)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `"<timestamp>." + body` under `secret`."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The `Tsunagu-Signature` value: one `v1=` per secret that is currently valid."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    return ",".join(f"{SCHEME}={signature(secret, timestamp, body)}" for secret in secrets)


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    now: float,
    tolerance: float = 300,
) -> bool:
    """True if `header` signs `body` at `timestamp` with `secret`, and `timestamp` is fresh.

    `timestamp` is the `Tsunagu-Timestamp` header, `body` the raw request bytes (before any JSON
    parsing), `header` the `Tsunagu-Signature` header, `now` the current unix time
    (`time.time()`), `tolerance` the accepted clock distance in seconds (notify documents 300).
    Deduplicate accepted deliveries on `Tsunagu-Delivery-Id`: a retry re-sends the same one.
    """
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False  # too old (a replay) or from a clock far in the future
    expected = signature(secret, timestamp, body)
    matched = False
    for part in header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME:
            # Constant-time, and no early exit: timing tells nothing about which value matched.
            matched |= hmac.compare_digest(expected.encode(), value.encode("utf-8", "replace"))
    return matched
