"""Passwords, session ids, CSRF tokens and redirects: the pure rules of signing in."""

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from web.domain import (
    Failures,
    Throttle,
    csrf_matches,
    hash_password,
    needs_rehash,
    new_session_id,
    safe_next_path,
    session_id_hash,
    verify_password,
)


def test_a_password_verifies_against_its_own_argon2id_hash_only() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horse ", stored)
    assert not verify_password("Correct horse", stored)
    assert not needs_rehash(stored)


def old_scrypt_hash(password: str) -> str:
    """A hash as web stored them before Argon2id (scrypt, n=2^14)."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, maxmem=64 * 1024 * 1024)

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"scrypt$16384$8$1${b64(salt)}${b64(digest)}"


def test_an_old_scrypt_hash_still_verifies_and_asks_to_be_rehashed() -> None:
    stored = old_scrypt_hash("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsE", stored)
    assert needs_rehash(stored)


def test_no_delay_for_the_first_failures_then_doubling_delays_up_to_the_cap() -> None:
    throttle = Throttle(free=3, base_s=1, max_s=60)
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert throttle.wait(Failures(2, now), now) == 0
    assert [throttle.wait(Failures(n, now), now) for n in (3, 4, 5, 6)] == [1, 2, 4, 8]
    assert throttle.wait(Failures(10_000, now), now) == 60


def test_a_delay_runs_from_the_last_failure_and_then_lets_one_try_through() -> None:
    throttle = Throttle(free=0, base_s=10, max_s=60)
    last = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert throttle.wait(Failures(1, last), last + timedelta(seconds=15)) == 5
    assert throttle.wait(Failures(1, last), last + timedelta(seconds=20)) == 0


def test_two_hashes_of_one_password_differ_by_their_salt() -> None:
    assert hash_password("same") != hash_password("same")


def test_a_malformed_stored_hash_never_verifies() -> None:
    for stored in ("", "plain", "md5$x$y", "scrypt$a$b$c$d$e", "scrypt$16384$8$1$!!$!!", "$argon2id$v=19$x"):
        assert not verify_password("anything", stored)


def test_the_stored_session_key_is_a_hash_not_the_cookie() -> None:
    cookie = new_session_id()
    assert len(cookie) >= 40
    assert session_id_hash(cookie) != cookie
    assert session_id_hash(cookie) == session_id_hash(cookie)


def test_a_csrf_token_matches_only_itself() -> None:
    assert csrf_matches("abc", "abc")
    assert not csrf_matches("abc", "abd")
    assert not csrf_matches("abc", None)
    assert not csrf_matches("abc", "")


@pytest.mark.parametrize(
    "candidate",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "console",
    ],
)
def test_a_redirect_after_sign_in_stays_on_this_site(candidate: str | None) -> None:
    assert safe_next_path(candidate, "/console") == "/console"


def test_a_local_path_with_a_query_is_kept_after_sign_in() -> None:
    assert safe_next_path("/portal/handoffs/1?done=x", "/") == "/portal/handoffs/1?done=x"
