"""Signed acknowledgement links: notify mints one into each handoff alert, referral verifies it.

A link token is an Ed25519-signed JWT in the style of `eventkit.auth`, with its own issuer and
audience, so a link can never pass for a bearer token nor a bearer token for a link. It names
one handoff attempt (referral, organisation, attempt) and carries a token id (`jti`) that the
verifier records, so that each link acts once. Only notify holds the private key; referral holds
the public one. Expiry is checked against a clock the caller passes, so tests drive time.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from eventkit.auth import _unb64

LINK_ISSUER = "tsunagu-notify"
LINK_AUDIENCE = "handoff-ack"


@dataclass(frozen=True)
class LinkClaims:
    token_id: uuid.UUID
    referral_id: uuid.UUID
    organisation_id: uuid.UUID
    attempt: int
    expires_at: datetime


class LinkRejected(Exception):
    """`reason` is `expired` (a genuine link past its time) or `invalid` (anything else)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def mint_link_token(
    private_key_b64: str,
    *,
    token_id: uuid.UUID,
    referral_id: uuid.UUID,
    organisation_id: uuid.UUID,
    attempt: int,
    issued_at: datetime,
    expires_at: datetime,
) -> str:
    """The token for one attempt. Ed25519 is deterministic: the same claims give the same token,
    so every retry of an alert carries the same link."""
    claims: dict[str, object] = {
        "iss": LINK_ISSUER,
        "aud": LINK_AUDIENCE,
        "jti": str(token_id),
        "ref": str(referral_id),
        "org": str(organisation_id),
        "att": attempt,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    key = Ed25519PrivateKey.from_private_bytes(_unb64(private_key_b64))
    return jwt.encode(claims, key, algorithm="EdDSA")


class LinkVerifier:
    def __init__(self, public_key_b64: str) -> None:
        try:
            self._key = Ed25519PublicKey.from_public_bytes(_unb64(public_key_b64))
        except ValueError as error:
            raise ValueError("the link verify key is not a base64url Ed25519 public key") from error

    def verify(self, token: str, *, now: datetime | None = None) -> LinkClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["EdDSA"],
                audience=LINK_AUDIENCE,
                issuer=LINK_ISSUER,
                # Expiry is compared below with the caller's clock, not PyJWT's.
                options={"require": ["exp", "iat", "jti", "ref", "org", "att"], "verify_exp": False},
            )
            parsed = LinkClaims(
                token_id=uuid.UUID(str(claims["jti"])),
                referral_id=uuid.UUID(str(claims["ref"])),
                organisation_id=uuid.UUID(str(claims["org"])),
                attempt=int(claims["att"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError):
            raise LinkRejected("invalid") from None
        if parsed.attempt < 1:
            raise LinkRejected("invalid")
        if (now or datetime.now(UTC)) >= parsed.expires_at:
            raise LinkRejected("expired")
        return parsed
