"""Acknowledgement link tokens: minted by one key, verified by its public half, and nothing else."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from eventkit.auth import TokenVerifier, generate_signing_keypair, mint_token
from eventkit.errors import ApiError
from eventkit.links import LinkRejected, LinkVerifier, mint_link_token

PRIVATE, PUBLIC = generate_signing_keypair()
NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def a_link(**changes: object) -> str:
    values: dict[str, object] = {
        "token_id": uuid.UUID(int=7),
        "referral_id": uuid.UUID(int=1),
        "organisation_id": uuid.UUID(int=2),
        "attempt": 2,
        "issued_at": NOW,
        "expires_at": NOW + timedelta(hours=1),
    }
    return mint_link_token(PRIVATE, **(values | changes))  # type: ignore[arg-type]


def test_a_link_verifies_to_the_attempt_it_names() -> None:
    claims = LinkVerifier(PUBLIC).verify(a_link(), now=NOW)

    assert (claims.token_id, claims.referral_id, claims.organisation_id, claims.attempt) == (
        uuid.UUID(int=7),
        uuid.UUID(int=1),
        uuid.UUID(int=2),
        2,
    )


def test_the_same_claims_give_the_same_token() -> None:
    assert a_link() == a_link()


def test_an_expired_link_is_told_apart_from_an_invalid_one() -> None:
    with pytest.raises(LinkRejected) as raised:
        LinkVerifier(PUBLIC).verify(a_link(), now=NOW + timedelta(hours=1))
    assert raised.value.reason == "expired"


@pytest.mark.parametrize("token", ["", "x.y.z", a_link()[:-3] + "AAA"])
def test_a_tampered_or_garbage_link_is_invalid(token: str) -> None:
    with pytest.raises(LinkRejected) as raised:
        LinkVerifier(PUBLIC).verify(token, now=NOW)
    assert raised.value.reason == "invalid"


def test_a_link_signed_by_another_key_is_invalid() -> None:
    _, other_public = generate_signing_keypair()
    with pytest.raises(LinkRejected):
        LinkVerifier(other_public).verify(a_link(), now=NOW)


def test_links_and_bearer_tokens_are_never_mistaken_for_each_other() -> None:
    bearer = mint_token(PRIVATE, role="operator", subject="op")
    with pytest.raises(LinkRejected):
        LinkVerifier(PUBLIC).verify(bearer)
    with pytest.raises(ApiError):
        TokenVerifier(PUBLIC).verify(a_link(expires_at=datetime.now(UTC) + timedelta(hours=1)))
