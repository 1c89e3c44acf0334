"""Webhook signatures of the two providers. Pure: secrets and bytes in, a verdict out.

- Twilio: `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, full URL + each POST parameter's
  name and value, sorted by name)).
- LINE: `X-Line-Signature` = base64(HMAC-SHA256(channel secret, raw request body)).

Comparisons are constant-time. Neither scheme signs a timestamp, so replays are handled where the
effects are: a repeated call id or webhook event id changes nothing.
"""

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Sequence


def twilio_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)
    payload = url
    for name in sorted(grouped):
        for value in sorted(grouped[name]):
            payload += name + value
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _with_and_without_default_port(url: str) -> list[str]:
    # Twilio signs the URL as it dialled it; proxies add or drop the default port.
    parts = urllib.parse.urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    variants = [url]
    if default is not None:
        if parts.port is None:
            variants.append(urllib.parse.urlunsplit(parts._replace(netloc=f"{host}:{default}")))
        elif parts.port == default:
            variants.append(urllib.parse.urlunsplit(parts._replace(netloc=host)))
    return variants


def twilio_signature_valid(
    auth_token: str, url: str, params: Sequence[tuple[str, str]], offered: str | None
) -> bool:
    if not offered:
        return False
    matched = False
    for candidate in _with_and_without_default_port(url):
        expected = twilio_signature(auth_token, candidate, params)
        matched |= hmac.compare_digest(expected.encode(), offered.strip().encode())
    return matched


def line_signature(channel_secret: str, body: bytes) -> str:
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def line_signature_valid(channel_secret: str, body: bytes, offered: str | None) -> bool:
    if not offered:
        return False
    return hmac.compare_digest(line_signature(channel_secret, body).encode(), offered.strip().encode())


def pseudonym(key: str, value: str, *, purpose: str) -> str:
    """A keyed, stable stand-in for an identifier, for lookups without storing it in clear."""
    return hmac.new(key.encode("utf-8"), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
