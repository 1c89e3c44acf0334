"""Rate limits of intake's public edges on its real app and database: anonymous web chats (new
chats per address, messages per chat) and the channel webhooks answer 429 with `Retry-After` and
the error shape once a client goes past them, while others are still served."""

from collections.abc import AsyncIterator

import httpx
import pytest

from contracts.vocabulary import Topic
from eventkit.auth import Role, generate_signing_keypair, mint_token
from eventkit.crypto import generate_keyring_entry
from eventkit.ratelimit import Limit
from eventkit.runtime import NO_LOOPS
from eventkit.testing import Infra, app_client, database_of_its_own, service_settings
from intake.config import Settings
from intake.main import create_app

PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()
SECRET = "rate-limit-secret-" + "x" * 40
GATEWAY = {
    "Authorization": "Bearer " + mint_token(PRIVATE_KEY, role=Role.CHANNEL.value, subject="web-chat-gateway")
}


@pytest.fixture
async def client(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    async with database_of_its_own(infra) as database_url:
        settings = Settings(
            **service_settings(
                infra,
                database_url,
                auth_public_key=PUBLIC_KEY,
                encryption_keys=generate_keyring_entry(),
                twilio_auth_token=SECRET,
                line_channel_secret=SECRET,
                line_channel_access_token=SECRET,
                line_api_base_url="http://127.0.0.1:9",
            )
        )
        # The real limits of the web chat (tests run in development mode, which widens them); the
        # webhooks' real limit is generous (200, then 50/s): a test at that pace would measure the
        # machine's speed, so the same check runs with a smaller bucket, refilled once a minute.
        webhook = Limit(burst=20, per_s=1 / 60)
        app = create_app(settings, rate_limits={"channel-webhook": webhook}, loops=NO_LOOPS)
        async with app_client(app, "https://intake.example.jp") as c:
            yield c


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"


async def _start(client: httpx.AsyncClient, address: str) -> httpx.Response:
    return await client.post(
        "/v1/web-chats", json={"topic": Topic.LONELY.value}, headers={**GATEWAY, "Tsunagu-Client": address}
    )


async def test_one_address_opening_chats_in_a_row_meets_429_while_another_is_served(
    client: httpx.AsyncClient,
) -> None:
    answers = [await _start(client, "198.51.100.1") for _ in range(6)]
    assert [a.status_code for a in answers[:5]] == [201] * 5
    assert_rate_limited(answers[5])
    assert (await _start(client, "198.51.100.2")).status_code == 201


async def test_a_flood_of_messages_in_one_chat_meets_429(client: httpx.AsyncClient) -> None:
    chat_id = (await _start(client, "198.51.100.3")).json()["id"]
    answers = [
        await client.post(f"/v1/web-chats/{chat_id}/messages", json={"text": f"m{n}"}, headers=GATEWAY)
        for n in range(15)
    ]
    assert answers[0].status_code == 204
    assert_rate_limited(answers[-1])


@pytest.mark.parametrize("path", ["/v1/channels/line/webhook", "/v1/channels/phone/voice"])
async def test_a_flood_at_a_channel_webhook_meets_429_before_any_work(
    client: httpx.AsyncClient, path: str
) -> None:
    answers = [
        await client.post(path, content=b"{}", headers={"content-type": "application/json"})
        for _ in range(21)
    ]
    assert {a.status_code for a in answers[:20]} <= {403, 415}  # refused (unsigned, not a form), yet counted
    assert_rate_limited(answers[20])
