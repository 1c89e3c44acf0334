"""Bad input on intake's real app is a 422 naming the field, never a 500 (eventkit.testing_probe)."""

from typing import Any

from fastapi import FastAPI

from eventkit.crypto import generate_keyring_entry
from eventkit.ratelimit import lift_limits
from eventkit.runtime import NO_LOOPS
from eventkit.testing_probe import BadInputTests
from intake.config import Settings
from intake.main import create_app

SECRET = "probe-secret-" + "x" * 40


class TestBadInput(BadInputTests):
    base_url = "https://intake.example.jp"

    @classmethod
    def make_app(cls, **settings: Any) -> FastAPI:
        app = create_app(
            Settings(
                **settings,
                encryption_keys=generate_keyring_entry(),
                twilio_auth_token=SECRET,
                line_channel_secret=SECRET,
                line_channel_access_token=SECRET,
                line_api_base_url="http://127.0.0.1:9",
            ),
            loops=NO_LOOPS,
        )
        lift_limits(app)  # hundreds of probes from one address (test_intake_rate_limits has the limits)
        return app

    def test_the_probe_finds_the_text_fields_people_and_partners_fill_in(self) -> None:
        fields = {i.field for i in self.probed("text")}
        assert {"body.summary", "body.contact.name", "body.text", "body.options.0.label"} <= fields
