"""The bad-input tests every service runs on its real app, written once: a control character in any
text input, or an integer past PostgreSQL's bigint in any integer input, is a 422 in the error
shape that names the input — never a 500. And no endpoint or dependency of it runs in a worker
thread (a plain `def`, which FastAPI hands to the thread pool on every request).

A service's test module subclasses `BadInputTests` as `TestBadInput` and says how its app is built
(`make_app`); the inputs are found from the app's routes (eventkit.inputprobe), one test each, so a
field added later is probed without being listed.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar, Final

import httpx
import pytest
from fastapi import FastAPI

from eventkit.auth import generate_signing_keypair
from eventkit.inputprobe import (
    CONTROL_CHARACTERS,
    HUGE_INTEGERS,
    Input,
    Kind,
    answer,
    every_role,
    in_worker_threads,
    inputs,
    refusal_problem,
)
from eventkit.testing import Infra, app_client, database_of_its_own, service_settings

# An app built on these is only read for its routes: it never connects.
UNUSED_DATABASE_URL = "postgresql://unused@127.0.0.1/unused"
UNUSED_KAFKA = "127.0.0.1:9"
UNUSED_INFRA: Final = Infra(UNUSED_DATABASE_URL, UNUSED_KAFKA, kind="unused")

# The apps built here accept tokens signed with this key.
PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()

# The argument of each test that takes one input of the app, and the kind of input it takes.
_PROBED_ARGUMENTS: Final[Mapping[str, Kind]] = {"text_input": "text", "integer_input": "integer"}


class BadInputTests:
    """Subclass as `TestBadInput` with `make_app`; `credentials` when the app wants other tokens than
    one of each role, `base_url` when it checks the origin of what it is sent."""

    credentials: ClassVar[Sequence[Mapping[str, str]]] = every_role(PRIVATE_KEY)
    base_url: ClassVar[str] = "http://testserver"
    _probed: ClassVar[dict[Kind, list[Input]]]

    @classmethod
    def make_app(cls, **settings: Any) -> FastAPI:
        """The service's app with these settings (the database, the broker, `PUBLIC_KEY` and a
        small pool) and whatever else its Settings requires."""
        raise NotImplementedError

    @classmethod
    def app(cls, infra: Infra, database_url: str) -> FastAPI:
        return cls.make_app(**service_settings(infra, database_url, auth_public_key=PUBLIC_KEY))

    @classmethod
    def probed(cls, kind: Kind) -> list[Input]:
        """The app's inputs of one kind, found once per class."""
        if "_probed" not in cls.__dict__:
            app = cls.app(UNUSED_INFRA, UNUSED_DATABASE_URL)
            cls._probed = {"text": inputs(app, ["text"]), "integer": inputs(app, ["integer"])}
        return cls._probed[kind]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        for argument, kind in _PROBED_ARGUMENTS.items():
            if argument in metafunc.fixturenames:
                probed = self.probed(kind)
                metafunc.parametrize(argument, probed, ids=[i.id for i in probed])

    @pytest.fixture(scope="class")
    @classmethod
    async def client(cls, infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
        async with (
            database_of_its_own(infra) as database_url,
            app_client(cls.app(infra, database_url), cls.base_url) as c,
        ):
            yield c

    def test_no_endpoint_or_dependency_runs_in_a_worker_thread(self) -> None:
        assert in_worker_threads(self.app(UNUSED_INFRA, UNUSED_DATABASE_URL)) == []

    async def test_a_control_character_in_a_text_field_is_refused_with_422(
        self, client: httpx.AsyncClient, text_input: Input
    ) -> None:
        for name, character in CONTROL_CHARACTERS.items():
            response = await answer(client, text_input, f"ab{character}cd", self.credentials)
            assert refusal_problem(response, text_input) is None, (
                name,
                refusal_problem(response, text_input),
            )

    async def test_an_integer_past_bigint_is_refused_with_422(
        self, client: httpx.AsyncClient, integer_input: Input
    ) -> None:
        for value in HUGE_INTEGERS[1:]:
            response = await answer(client, integer_input, value, self.credentials)
            assert refusal_problem(response, integer_input) is None, (
                value,
                refusal_problem(response, integer_input),
            )
