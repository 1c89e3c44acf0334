"""Bad input on directory's real app is a 422 naming the field, never a 500 (eventkit.testing_probe)."""

from typing import Any

from fastapi import FastAPI

from directory.config import Settings
from directory.main import create_app
from eventkit.runtime import NO_LOOPS
from eventkit.testing_probe import BadInputTests


class TestBadInput(BadInputTests):
    @classmethod
    def make_app(cls, **settings: Any) -> FastAPI:
        return create_app(Settings(**settings), loops=NO_LOOPS)

    def test_the_probe_finds_the_text_operators_send(self) -> None:
        assert {"query.q", "body.organizations.0.name"} <= {i.field for i in self.probed("text")}
