"""Users, passwords, sessions and what each role may see. Pure: no I/O."""

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from eventkit.auth import Role

# Argon2id with argon2-cffi's defaults (RFC 9106's second choice: t=3, 64 MiB, p=4). Hashes of
# older parameters, and scrypt hashes from before, are replaced at the next sign-in.
_HASHER = PasswordHasher()
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
class Account:
    """A user to create or update, with the password to set (the stack's demo users)."""

    username: str
    display_name: str
    role: Role
    password: str
    organisation_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Session:
    id_hash: str
    user: User | None
    csrf_token: str
    expires_at: datetime  # the absolute end; a signed-in session also ends after idle_timeout_s


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from (Argon2id, or an old scrypt hash)."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """An old scheme or weaker parameters: hash the password again while it is at hand."""
    return stored.startswith("scrypt$") or _HASHER.check_needs_rehash(stored)


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
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


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins within the window: how many, and the last one."""

    count: int
    last: datetime | None


@dataclass(frozen=True)
class Throttle:
    """Growing delays after failed sign-ins, never a lockout: the first `free` failures cost
    nothing, then each doubles the wait before the next try, up to `max_s`. A refused try is not a
    failure (the password was not checked), so waiting always lets one more try through.

    Two of them apply: by account, capped low (anyone can fail against an account, so its owner
    waits at most a minute), and by client address, capped high (a guesser only slows himself)."""

    free: int
    base_s: float
    max_s: float

    def wait(self, failures: Failures, now: datetime) -> float:
        """Seconds until the next try may be checked; 0 when it may now."""
        if failures.count < self.free or failures.last is None:
            return 0.0
        delay = min(self.base_s * 2 ** min(failures.count - self.free, 30), self.max_s)
        return max(0.0, (failures.last + timedelta(seconds=delay) - now).total_seconds())


# Checked against when the username is unknown, so both answers take the same time.
DUMMY_PASSWORD_HASH = hash_password("not-a-password")


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
