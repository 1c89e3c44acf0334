"""Signing in on real PostgreSQL: accounts, sessions, throttling, Argon2id, idle timeout, CSRF and the
cookie's attributes."""

import asyncio
import base64
import hashlib
import re
import statistics
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from eventkit.auth import Role, TokenVerifier, generate_signing_keypair
from eventkit.clock import MovableClock
from eventkit.db import MigrationSource, create_pool, migrate
from web import service
from web.config import Settings
from web.domain import Account, Throttle
from web.main import MIGRATIONS, create_app

ORG = uuid.UUID("b29d9833-34e1-5fc9-af34-76fce8eb498e")


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(fresh_database, [MigrationSource("web", MIGRATIONS)])
    created = await create_pool(fresh_database, min_size=1, max_size=4)
    await service.upsert_accounts(
        created,
        [
            Account("counsellor", "相談員", Role.COUNSELLOR, "counsellor-pass"),
            Account("partner1", "団体", Role.PARTNER, "partner-pass", organisation_id=ORG),
        ],
    )
    yield created
    await created.close()


POLICY = service.SignInPolicy(
    by_account=Throttle(free=3, base_s=10, max_s=60), by_client=Throttle(free=6, base_s=10, max_s=900)
)


async def _sign_in(
    pool: asyncpg.Pool, username: str, password: str, clock: MovableClock, client: str = "192.0.2.1"
) -> service.NewSession:
    return await service.sign_in(
        pool,
        username=username,
        password=password,
        client=client,
        visitor_session=None,
        ttl_s=3600,
        idle_s=600,
        policy=POLICY,
        clock=clock,
    )


async def _refusal(
    pool: asyncpg.Pool, username: str, password: str, clock: MovableClock, client: str = "192.0.2.1"
) -> service.SignInRefused:
    with pytest.raises(service.SignInRefused) as refused:
        await _sign_in(pool, username, password, clock, client)
    return refused.value


async def test_a_right_password_opens_a_session_that_names_the_user_and_role(pool: asyncpg.Pool) -> None:
    clock = MovableClock()
    opened = await _sign_in(pool, "partner1", "partner-pass", clock)
    found = await service.find_session(pool, cookie_value=opened.cookie_value, clock=clock)
    assert found is not None and found.user is not None
    assert found.user.role is Role.PARTNER and found.user.organisation_id == ORG
    stored = await pool.fetchval("SELECT count(*) FROM sessions WHERE id_hash = $1", opened.cookie_value)
    assert stored == 0  # only the hash is kept


async def test_a_wrong_password_or_an_unknown_user_is_refused_alike(pool: asyncpg.Pool) -> None:
    for username, password in (("counsellor", "nope"), ("nobody", "counsellor-pass")):
        with pytest.raises(service.SignInRefused) as refused:
            await _sign_in(pool, username, password, MovableClock())
        assert refused.value.reason == "invalid"


async def test_failures_at_one_account_bring_growing_delays_but_never_a_lockout(pool: asyncpg.Pool) -> None:
    clock = MovableClock()
    for client in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):  # a guesser moving between addresses
        assert (await _refusal(pool, "counsellor", "guess", clock, client)).reason == "invalid"
    throttled = await _refusal(pool, "counsellor", "counsellor-pass", clock, "198.51.100.7")
    assert (throttled.reason, throttled.retry_after_s) == ("throttled", 10)
    clock.advance(seconds=10)
    assert (await _refusal(pool, "counsellor", "guess", clock, "192.0.2.4")).reason == "invalid"
    assert (await _refusal(pool, "counsellor", "guess", clock)).retry_after_s == 20  # it doubled
    for n in range(10):  # however long the guessing goes on, the owner waits at most the cap
        clock.advance(seconds=60)
        assert (await _refusal(pool, "counsellor", "guess", clock, f"192.0.2.{10 + n}")).reason == "invalid"
    assert (await _refusal(pool, "counsellor", "counsellor-pass", clock, "198.51.100.7")).retry_after_s <= 60
    clock.advance(seconds=60)
    opened = await _sign_in(pool, "counsellor", "counsellor-pass", clock, "198.51.100.7")
    assert opened.session.user is not None


async def test_failures_from_one_address_slow_that_address_at_every_account(pool: asyncpg.Pool) -> None:
    clock = MovableClock()
    for n in range(6):
        await _refusal(pool, f"user{n}", "guess", clock, "203.0.113.9")
    assert (await _refusal(pool, "partner1", "partner-pass", clock, "203.0.113.9")).reason == "throttled"
    assert (await _sign_in(pool, "partner1", "partner-pass", clock, "192.0.2.1")).session.user is not None


async def test_parallel_guesses_cannot_pass_the_throttle_together(pool: asyncpg.Pool) -> None:
    clock = MovableClock()
    results = await asyncio.gather(
        *(_sign_in(pool, "counsellor", f"guess{n}", clock, f"192.0.2.{n}") for n in range(12)),
        return_exceptions=True,
    )
    reasons = [r.reason for r in results if isinstance(r, service.SignInRefused)]
    assert len(reasons) == 12
    assert reasons.count("invalid") == 3  # the free failures; every other try was refused unchecked


async def test_an_old_scrypt_hash_is_replaced_by_argon2id_at_sign_in(pool: asyncpg.Pool) -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"counsellor-pass", salt=salt, n=2**14, r=8, p=1, maxmem=64 * 1024 * 1024)
    old = "$".join(
        [
            "scrypt",
            "16384",
            "8",
            "1",
            *(base64.urlsafe_b64encode(b).rstrip(b"=").decode() for b in (salt, digest)),
        ]
    )
    await pool.execute("UPDATE users SET password_hash = $1 WHERE username = 'counsellor'", old)
    await _sign_in(pool, "counsellor", "counsellor-pass", MovableClock())
    stored = await pool.fetchval("SELECT password_hash FROM users WHERE username = 'counsellor'")
    assert stored.startswith("$argon2id$")
    assert (await _sign_in(pool, "counsellor", "counsellor-pass", MovableClock())).session.user is not None


async def test_a_wrong_password_and_an_unknown_user_take_the_same_time(pool: asyncpg.Pool) -> None:
    async def duration(username: str, n: int) -> float:
        start = time.perf_counter()
        await _refusal(pool, username, "guess", MovableClock(), f"198.51.100.{n}")
        return time.perf_counter() - start

    known = [await duration("counsellor", n) for n in range(3)]
    unknown = [await duration("nobody", 10 + n) for n in range(3)]
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.5 < ratio < 2, (known, unknown)  # both check one Argon2id hash; no early answer


async def test_a_signed_in_session_ends_after_its_idle_time_unless_used(pool: asyncpg.Pool) -> None:
    clock = MovableClock()
    opened = await _sign_in(pool, "counsellor", "counsellor-pass", clock)
    for _ in range(3):  # used every 9 minutes: kept
        clock.advance(seconds=540)
        assert await service.find_session(pool, cookie_value=opened.cookie_value, clock=clock) is not None
    clock.advance(seconds=601)
    assert await service.find_session(pool, cookie_value=opened.cookie_value, clock=clock) is None
    assert await service.purge_expired_sessions(pool, clock=clock) >= 1


async def test_a_session_ends_at_its_expiry_and_at_sign_out(pool: asyncpg.Pool) -> None:
    clock = MovableClock()
    opened = await _sign_in(pool, "counsellor", "counsellor-pass", clock)
    clock.advance(seconds=3601)
    assert await service.find_session(pool, cookie_value=opened.cookie_value, clock=clock) is None
    assert await service.purge_expired_sessions(pool, clock=clock) >= 1
    second = await _sign_in(pool, "counsellor", "counsellor-pass", clock)
    await service.sign_out(pool, session=second.session)
    assert await service.find_session(pool, cookie_value=second.cookie_value, clock=clock) is None


async def test_the_minted_bearer_token_carries_the_users_role_and_organisation(pool: asyncpg.Pool) -> None:
    private, public = generate_signing_keypair()
    opened = await _sign_in(pool, "partner1", "partner-pass", MovableClock())
    assert opened.session.user is not None
    token = service.bearer_token(opened.session.user, signing_key=private, ttl_s=60)
    principal = TokenVerifier(public).verify(token)
    assert principal.subject == "partner1"
    assert principal.is_partner_of(ORG)


@pytest.fixture
async def client(fresh_database: str, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    private, public = generate_signing_keypair()
    settings = Settings(
        database_url=fresh_database, auth_public_key=public, auth_signing_key=private, http_port=8100
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8100") as http:
            yield http


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


async def test_the_sign_in_form_needs_its_csrf_token(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    refused = await client.post("/login", data={"username": "counsellor", "password": "counsellor-pass"})
    assert refused.status_code == 403
    forged = await client.post(
        "/login", data={"username": "counsellor", "password": "counsellor-pass", "csrf_token": "forged"}
    )
    assert forged.status_code == 403


async def test_signing_in_sets_a_new_httponly_strict_cookie_and_signing_out_ends_it(
    client: httpx.AsyncClient,
) -> None:
    form = await client.get("/login")
    visitor = client.cookies.get("tsunagu_session")
    signed_in = await client.post(
        "/login",
        data={"username": "counsellor", "password": "counsellor-pass", "csrf_token": _csrf(form.text)},
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console"
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert client.cookies.get("tsunagu_session") != visitor  # a fresh id: no session fixation
    home = await client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/console"
    page = await client.get("/chat")  # a page that calls no service, with the logout form
    out = await client.post("/logout", data={"csrf_token": _csrf(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert (await client.get("/")).status_code == 200  # signed out: the landing page again


async def test_a_throttled_sign_in_is_a_429_with_retry_after(client: httpx.AsyncClient) -> None:
    for _ in range(5):  # free failures
        form = await client.get("/login")
        answer = await client.post(
            "/login", data={"username": "counsellor", "password": "guess", "csrf_token": _csrf(form.text)}
        )
        assert answer.status_code == 401
    form = await client.get("/login")
    answer = await client.post(
        "/login",
        data={"username": "counsellor", "password": "counsellor-pass", "csrf_token": _csrf(form.text)},
    )
    assert answer.status_code == 429
    assert 0 < int(answer.headers["retry-after"]) <= 60


async def test_a_control_character_in_the_sign_in_form_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    for field in ("username", "password"):
        form = await client.get("/login")
        data = {"username": "counsellor", "password": "counsellor-pass", "csrf_token": _csrf(form.text)}
        answer = await client.post("/login", data={**data, field: "counsellor\x00"})
        assert answer.status_code == 422, (field, answer.status_code)


async def test_a_role_is_sent_to_sign_in_or_refused_where_it_does_not_belong(
    client: httpx.AsyncClient,
) -> None:
    anonymous = await client.get("/ops")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/ops"
    form = await client.get("/login")
    await client.post(
        "/login", data={"username": "partner1", "password": "partner-pass", "csrf_token": _csrf(form.text)}
    )
    assert (await client.get("/ops")).status_code == 403
    assert (await client.get("/console")).status_code == 403
