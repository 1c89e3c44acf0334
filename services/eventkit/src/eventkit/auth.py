"""Bearer tokens: Ed25519-signed JWTs naming a role (and, for partners, their organisation).

Services hold only the public key, so no service can mint tokens; the issuer (the local stack's
`token` command, or an identity provider in production) holds the private key.
"""

import base64
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from fastapi import Depends, Request

from eventkit.errors import ApiError

ISSUER = "tsunagu"
AUDIENCE = "tsunagu-api"


class Role(StrEnum):
    COUNSELLOR = "counsellor"
    PARTNER = "partner"
    OPERATOR = "operator"
    # A channel gateway's service credential (the web chat relaying for anonymous people); only
    # endpoints that name it admit it.
    CHANNEL = "channel"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    organisation_id: uuid.UUID | None = None

    def is_partner_of(self, organisation_id: uuid.UUID) -> bool:
        return self.role is Role.PARTNER and self.organisation_id == organisation_id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_signing_keypair() -> tuple[str, str]:
    """A new (private, public) Ed25519 pair as base64url of the raw 32-byte keys."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _b64(raw_private), _b64(raw_public)


def mint_token(
    private_key_b64: str,
    *,
    role: str,
    subject: str,
    organisation_id: str | None = None,
    ttl_seconds: int = 8 * 3600,
) -> str:
    parsed_role = Role(role)
    if parsed_role is Role.PARTNER and organisation_id is None:
        raise ValueError("a partner token needs the partner's organisation id")
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "role": parsed_role.value,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if organisation_id is not None:
        claims["org"] = str(uuid.UUID(organisation_id))
    key = Ed25519PrivateKey.from_private_bytes(_unb64(private_key_b64))
    return jwt.encode(claims, key, algorithm="EdDSA")


class TokenVerifier:
    def __init__(self, public_key_b64: str) -> None:
        try:
            self._key = Ed25519PublicKey.from_public_bytes(_unb64(public_key_b64))
        except ValueError as error:
            raise ValueError("auth_public_key is not a base64url Ed25519 public key") from error

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "token_expired", "The bearer token has expired.") from None
        except jwt.InvalidTokenError:
            raise ApiError(401, "invalid_token", "The bearer token is not valid.") from None
        try:
            role = Role(claims["role"])
            org = uuid.UUID(claims["org"]) if claims.get("org") else None
        except (ValueError, TypeError):
            raise ApiError(401, "invalid_token", "The bearer token's claims are malformed.") from None
        if role is Role.PARTNER and org is None:
            raise ApiError(401, "invalid_token", "A partner token must name its organisation.")
        return Principal(subject=str(claims["sub"]), role=role, organisation_id=org)


async def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401,
            "missing_token",
            "Send 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(token.strip())


def require_role(*roles: Role) -> object:
    """A dependency that admits only the given roles (403 with the roles that would be allowed)."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise ApiError(403, "forbidden", f"This needs one of these roles: {allowed}.")
        return principal

    return Depends(check)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
