"""Passwords, session ids, CSRF tokens and redirects: the pure rules of signing in."""

import pytest

from web.domain import (
    csrf_matches,
    hash_password,
    new_session_id,
    safe_next_path,
    session_id_hash,
    verify_password,
)

pytestmark = pytest.mark.unit


def test_a_password_verifies_against_its_own_scrypt_hash_only() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horse ", stored)
    assert not verify_password("Correct horse", stored)


def test_two_hashes_of_one_password_differ_by_their_salt() -> None:
    assert hash_password("same") != hash_password("same")


def test_a_malformed_stored_hash_never_verifies() -> None:
    for stored in ("", "plain", "md5$x$y", "scrypt$a$b$c$d$e", "scrypt$16384$8$1$!!$!!"):
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
