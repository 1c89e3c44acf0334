"""web's use cases: signing in and out, visitor sessions, the demo accounts."""

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import asyncpg

from eventkit.auth import mint_token
from web import repository
from web.domain import (
    DUMMY_PASSWORD_HASH,
    Account,
    Session,
    Throttle,
    User,
    hash_password,
    needs_rehash,
    new_csrf_token,
    new_session_id,
    session_id_hash,
    verify_password,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SignInRefused(Exception):
    """Wrong username or password (never says which), or a try before the throttle's delay ran out."""

    def __init__(self, reason: str, retry_after_s: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid" or "throttled"
        self.retry_after_s = retry_after_s


# An account's owner waits at most a minute whoever guesses; a guessing address up to 15 minutes.
ACCOUNT_THROTTLE: Final = Throttle(free=5, base_s=1, max_s=60)
CLIENT_THROTTLE: Final = Throttle(free=10, base_s=1, max_s=900)


@dataclass(frozen=True)
class SignInPolicy:
    """How failed sign-ins slow the next tries: by account (capped low: no lockout a stranger can
    cause) and by client address (capped high), counting failures within `window_s`."""

    by_account: Throttle = ACCOUNT_THROTTLE
    by_client: Throttle = CLIENT_THROTTLE
    window_s: int = 900


# On a development machine every browser and e2e test signs in from 127.0.0.1, some with a wrong
# password on purpose: the address is not throttled there (accounts still are).
DEVELOPMENT_SIGN_IN: Final = SignInPolicy(by_client=Throttle(free=1_000_000, base_s=1, max_s=1))


@dataclass(frozen=True)
class NewSession:
    """The cookie value (only here, never stored) and the session it opens."""

    cookie_value: str
    session: Session


async def open_session(
    pool: asyncpg.Pool, *, user: User | None, ttl_s: int, idle_s: int | None = None, clock: Clock = utc_now
) -> NewSession:
    """`idle_s`: the session also ends after this long without a request (None: only at `ttl_s`)."""
    session_id = new_session_id()
    session = Session(
        id_hash=session_id_hash(session_id),
        user=user,
        csrf_token=new_csrf_token(),
        expires_at=clock() + timedelta(seconds=ttl_s),
    )
    async with pool.acquire() as conn:
        await repository.insert_session(
            conn,
            id_hash=session.id_hash,
            user_id=user.id if user else None,
            csrf_token=session.csrf_token,
            expires_at=session.expires_at,
            idle_timeout_s=idle_s,
            now=clock(),
        )
    return NewSession(cookie_value=session_id, session=session)


async def find_session(pool: asyncpg.Pool, *, cookie_value: str, clock: Clock = utc_now) -> Session | None:
    async with pool.acquire() as conn:
        return await repository.get_session(conn, id_hash=session_id_hash(cookie_value), now=clock())


async def sign_in(
    pool: asyncpg.Pool,
    *,
    username: str,
    password: str,
    client: str,
    visitor_session: Session | None,
    ttl_s: int,
    idle_s: int,
    policy: SignInPolicy = SignInPolicy(),
    clock: Clock = utc_now,
) -> NewSession:
    """Check the password and open a NEW session (a fresh id defeats session fixation).

    Every failure costs the same: an unknown or disabled account is checked against a dummy hash.
    A try inside a throttle's delay is refused unchecked and does not count as a failure."""
    async with pool.acquire() as conn, conn.transaction():
        await repository.lock_sign_in(conn, username=username, client=client)
        now = clock()
        by_account, by_client = await repository.sign_in_failures(
            conn, username=username, client=client, since=now - timedelta(seconds=policy.window_s)
        )
        wait = max(policy.by_account.wait(by_account, now), policy.by_client.wait(by_client, now))
        if wait > 0:
            raise SignInRefused("throttled", retry_after_s=math.ceil(wait))
        stored = await repository.find_user(conn, username=username)
        hashed = stored.password_hash if stored else DUMMY_PASSWORD_HASH
        # Argon2 takes tens of milliseconds of CPU: off the event loop.
        ok = await asyncio.to_thread(verify_password, password, hashed)
        if stored is None or stored.disabled or not ok:
            await repository.record_sign_in_failure(conn, username=username, client=client, at=now)
            failed = True
        else:
            failed = False
            await repository.clear_sign_in_failures(conn, username=username)
            if needs_rehash(stored.password_hash):
                rehashed = await asyncio.to_thread(hash_password, password)
                await repository.set_password_hash(conn, user_id=stored.user.id, password_hash=rehashed)
            if visitor_session is not None:
                await repository.delete_session(conn, id_hash=visitor_session.id_hash)
    if failed or stored is None:
        raise SignInRefused("invalid")
    return await open_session(pool, user=stored.user, ttl_s=ttl_s, idle_s=idle_s, clock=clock)


async def sign_out(pool: asyncpg.Pool, *, session: Session) -> None:
    async with pool.acquire() as conn:
        await repository.delete_session(conn, id_hash=session.id_hash)


async def purge_expired_sessions(pool: asyncpg.Pool, *, clock: Clock = utc_now) -> int:
    async with pool.acquire() as conn:
        return await repository.delete_expired_sessions(conn, now=clock())


async def upsert_accounts(pool: asyncpg.Pool, accounts: list[Account]) -> int:
    """Create or update accounts (the stack's demo users); the password given wins."""
    async with pool.acquire() as conn, conn.transaction():
        for account in accounts:
            await repository.upsert_user(conn, account, password_hash=hash_password(account.password))
    return len(accounts)


async def display_names(pool: asyncpg.Pool, *, usernames: set[str]) -> dict[str, str]:
    """Who acted, by the name colleagues know them by (a timeline names people, not accounts)."""
    if not usernames:
        return {}
    async with pool.acquire() as conn:
        return await repository.display_names(conn, usernames=sorted(usernames))


def bearer_token(user: User, *, signing_key: str, ttl_s: int) -> str:
    """The token the services verify, for this user, minted per call and short-lived."""
    return mint_token(
        signing_key,
        role=user.role.value,
        subject=user.username,
        organisation_id=str(user.organisation_id) if user.organisation_id else None,
        ttl_seconds=ttl_s,
    )


async def record_replay(
    pool: asyncpg.Pool, *, topic: str, partition: int, offset: int, replayed_by: str
) -> None:
    async with pool.acquire() as conn:
        await repository.record_replay(
            conn, topic=topic, partition=partition, offset=offset, replayed_by=replayed_by
        )


async def replays_of(
    pool: asyncpg.Pool, *, topic: str, letters: list[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, datetime]]:
    """The latest replay of each of these dead letters (partition, offset) that was replayed."""
    async with pool.acquire() as conn:
        return await repository.replays_of(conn, topic=topic, letters=letters)
