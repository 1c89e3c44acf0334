"""Bad input on notify's real app is a 422 naming the field, never a 500 (eventkit.testing_probe)."""

from typing import Any

from fastapi import FastAPI

from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from eventkit.runtime import NO_LOOPS
from eventkit.testing_probe import BadInputTests
from notify.config import Settings
from notify.main import create_app


class TestBadInput(BadInputTests):
    @classmethod
    def make_app(cls, **settings: Any) -> FastAPI:
        return create_app(
            Settings(
                **settings,
                encryption_keys=generate_keyring_entry(),
                link_signing_key=generate_signing_keypair()[0],
                public_base_url="https://notify.example",
            ),
            loops=NO_LOOPS,
        )

    def test_the_probe_finds_the_delivery_id_partners_put_in_the_path(self) -> None:
        assert "path.delivery_id" in {i.field for i in self.probed("text")}
