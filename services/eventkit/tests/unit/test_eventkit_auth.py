"""Bearer tokens: Ed25519 signatures, roles, partner organisations, expiry."""

import uuid

import pytest

from eventkit.auth import Role, TokenVerifier, generate_signing_keypair, mint_token
from eventkit.errors import ApiError

PRIVATE, PUBLIC = generate_signing_keypair()


def test_a_counsellor_token_verifies_with_its_role_and_subject() -> None:
    principal = TokenVerifier(PUBLIC).verify(mint_token(PRIVATE, role="counsellor", subject="c-7"))
    assert principal.role is Role.COUNSELLOR and principal.subject == "c-7"


def test_a_partner_token_carries_its_organisation() -> None:
    org = uuid.uuid4()
    token = mint_token(PRIVATE, role="partner", subject="p", organisation_id=str(org))
    principal = TokenVerifier(PUBLIC).verify(token)
    assert principal.is_partner_of(org) and not principal.is_partner_of(uuid.uuid4())


def test_a_partner_token_without_organisation_cannot_be_minted() -> None:
    with pytest.raises(ValueError):
        mint_token(PRIVATE, role="partner", subject="p")


def test_a_token_signed_by_another_key_is_refused() -> None:
    other_private, _ = generate_signing_keypair()
    with pytest.raises(ApiError) as caught:
        TokenVerifier(PUBLIC).verify(mint_token(other_private, role="operator", subject="x"))
    assert caught.value.status == 401 and caught.value.code == "invalid_token"


def test_an_expired_token_is_refused_with_its_own_code() -> None:
    token = mint_token(PRIVATE, role="operator", subject="x", ttl_seconds=-10)
    with pytest.raises(ApiError) as caught:
        TokenVerifier(PUBLIC).verify(token)
    assert caught.value.code == "token_expired"


def test_an_unknown_role_cannot_be_minted() -> None:
    with pytest.raises(ValueError):
        mint_token(PRIVATE, role="admin", subject="x")
