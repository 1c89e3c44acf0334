"""web's use cases: signing in and out, visitor sessions, the demo accounts."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from eventkit.auth import Role, mint_token
from web import repository
from web.domain import (
    DUMMY_PASSWORD_HASH,
    Session,
    User,
    hash_password,
    new_csrf_token,
    new_session_id,
    session_id_hash,
    verify_password,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SignInRefused(Exception):
    """Wrong username or password (never says which), or too many recent failures."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid" or "locked"


@dataclass(frozen=True)
class NewSession:
    """The cookie value (only here, never stored) and the session it opens."""

    cookie_value: str
    session: Session


async def open_session(
    pool: asyncpg.Pool, *, user: User | None, ttl_s: int, clock: Clock = utc_now
) -> NewSession:
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
    visitor_session: Session | None,
    ttl_s: int,
    max_failures: int,
    window_s: int,
    clock: Clock = utc_now,
) -> NewSession:
    """Check the password and open a NEW session (a fresh id defeats session fixation)."""
    now = clock()
    async with pool.acquire() as conn:
        failures = await repository.count_sign_in_failures(
            conn, username=username, since=now - timedelta(seconds=window_s)
        )
        if failures >= max_failures:
            raise SignInRefused("locked")
        stored = await repository.find_user(conn, username=username)
        ok = verify_password(password, stored.password_hash if stored else DUMMY_PASSWORD_HASH)
        if stored is None or stored.disabled or not ok:
            await repository.record_sign_in_failure(conn, username=username, at=now)
            raise SignInRefused("invalid")
        await repository.clear_sign_in_failures(conn, username=username)
        if visitor_session is not None:
            await repository.delete_session(conn, id_hash=visitor_session.id_hash)
    return await open_session(pool, user=stored.user, ttl_s=ttl_s, clock=clock)


async def sign_out(pool: asyncpg.Pool, *, session: Session) -> None:
    async with pool.acquire() as conn:
        await repository.delete_session(conn, id_hash=session.id_hash)


async def purge_expired_sessions(pool: asyncpg.Pool, *, clock: Clock = utc_now) -> int:
    async with pool.acquire() as conn:
        return await repository.delete_expired_sessions(conn, now=clock())


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: Role
    password: str
    organisation_id: uuid.UUID | None = None


async def upsert_accounts(pool: asyncpg.Pool, accounts: list[Account]) -> int:
    """Create or update accounts (the stack's demo users); the password given wins."""
    async with pool.acquire() as conn, conn.transaction():
        for account in accounts:
            await repository.upsert_user(
                conn,
                username=account.username,
                display_name=account.display_name,
                role=account.role,
                organisation_id=account.organisation_id,
                password_hash=hash_password(account.password),
            )
    return len(accounts)


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


async def replays_of(pool: asyncpg.Pool, *, topic: str) -> dict[tuple[int, int], tuple[str, datetime]]:
    async with pool.acquire() as conn:
        return await repository.replays_of(conn, topic=topic)
