"""Bad input on notify's real app: a control character in any text field, or an integer past
PostgreSQL's bigint in any number, is a 422 in the error shape that names the field — never a 500.
The fields are found from the app's routes (eventkit.inputprobe)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from eventkit.inputprobe import (
    CONTROL_CHARACTERS,
    HUGE_INTEGERS,
    Input,
    answer,
    every_role,
    inputs,
    refusal_problem,
)
from eventkit.testing import Infra, app_client, database_of_its_own
from notify.config import Settings
from notify.main import create_app

pytestmark = pytest.mark.integration

PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()
CREDENTIALS = every_role(PRIVATE_KEY)


def _settings(database_url: str, kafka: str) -> Settings:
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        auth_public_key=PUBLIC_KEY,
        kafka_bootstrap_servers=kafka,
        encryption_keys=generate_keyring_entry(),  # type: ignore[arg-type]
        link_signing_key=generate_signing_keypair()[0],  # type: ignore[arg-type]
        public_base_url="https://notify.example",
        db_pool_min=1,
        db_pool_max=4,
        shutdown_grace_s=5,
    )


APP = create_app(_settings("postgresql://unused@127.0.0.1/unused", "127.0.0.1:9"))
TEXT = inputs(APP, ["text"])
INTEGERS = inputs(APP, ["integer"])


@pytest.fixture(scope="module")
async def client(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        database_of_its_own(infra) as database_url,
        app_client(create_app(_settings(database_url, infra.kafka_bootstrap_servers))) as c,
    ):
        yield c


def test_the_probe_finds_the_delivery_id_partners_put_in_the_path() -> None:
    assert "path.delivery_id" in {i.field for i in TEXT}


@pytest.mark.parametrize("probed", TEXT, ids=[i.id for i in TEXT])
async def test_a_control_character_in_a_text_field_is_refused_with_422(
    client: httpx.AsyncClient, probed: Input
) -> None:
    for name, character in CONTROL_CHARACTERS.items():
        response = await answer(client, probed, f"ab{character}cd", CREDENTIALS)
        assert refusal_problem(response, probed) is None, (name, refusal_problem(response, probed))


@pytest.mark.parametrize("probed", INTEGERS, ids=[i.id for i in INTEGERS])
async def test_an_integer_past_bigint_is_refused_with_422(client: httpx.AsyncClient, probed: Input) -> None:
    for value in HUGE_INTEGERS[1:]:
        response = await answer(client, probed, value, CREDENTIALS)
        assert refusal_problem(response, probed) is None, (value, refusal_problem(response, probed))
