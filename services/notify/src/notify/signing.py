"""Webhook signatures: how notify signs a POST and how a partner verifies it.

Standard library only, so that partners can copy `verify_signature` as it is.

The signed bytes are `f"{timestamp}.".encode() + raw_body`; the signature is the hex
HMAC-SHA256 of them under the partner's secret (the whole `whsec_...` string, UTF-8 encoded).
The header reads `Tsunagu-Signature: v1=<hex>`; right after a secret rotation it carries one
`v1=` value per valid secret, comma-separated, and a match with any of them is enough.
Because the timestamp is signed, a partner that rejects old timestamps rejects replays.
"""

import hashlib
import hmac
from collections.abc import Sequence

SCHEME = "v1"


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
