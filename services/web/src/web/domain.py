"""Users, passwords, sessions and what each role may see. Pure: no I/O."""

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from eventkit.auth import Role

# scrypt with n=2**14, r=8, p=1 takes ~50 ms and 16 MiB: slow for a guesser, fine for a sign-in.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024

HOME_BY_ROLE: dict[Role, str] = {
    Role.COUNSELLOR: "/console",
    Role.PARTNER: "/portal",
    Role.OPERATOR: "/ops",
}


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    organisation_id: uuid.UUID | None

    @property
    def home(self) -> str:
        return HOME_BY_ROLE[self.role]


@dataclass(frozen=True)
class Session:
    id_hash: str
    user: User | None
    csrf_token: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=_SCRYPT_MAXMEM
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Checked against when the username is unknown, so both answers take the same time.
DUMMY_PASSWORD_HASH = hash_password("not-a-password", salt=b"\0" * 16)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str, offered: str | None) -> bool:
    return offered is not None and hmac.compare_digest(expected.encode(), offered.encode())


def safe_next_path(candidate: str | None, default: str) -> str:
    """Only a path on this site: an open redirect would make our sign-in page a phishing aid."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return default
    return candidate
