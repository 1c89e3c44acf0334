"""Bad input on referral's real app is a 422 naming the field, never a 500 (eventkit.testing_probe)."""

from typing import Any

from fastapi import FastAPI

from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from eventkit.runtime import NO_LOOPS
from eventkit.testing_probe import BadInputTests
from referral.config import Settings
from referral.main import create_app


class TestBadInput(BadInputTests):
    @classmethod
    def make_app(cls, **settings: Any) -> FastAPI:
        return create_app(
            Settings(
                **settings,
                link_verify_key=generate_signing_keypair()[1],
                encryption_keys=generate_keyring_entry(),
            ),
            loops=NO_LOOPS,
        )

    def test_the_probe_finds_the_text_partners_send(self) -> None:
        assert any(i.field.startswith("body.") for i in self.probed("text"))
