"""The only module with SQL: users, sessions and failed sign-ins in web's own database."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from eventkit.auth import Role
from web.domain import Session, User

_USER_COLUMNS = "u.id, u.username, u.display_name, u.role, u.organisation_id"


@dataclass(frozen=True)
class StoredUser:
    user: User
    password_hash: str
    disabled: bool


def _user(row: asyncpg.Record) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        organisation_id=row["organisation_id"],
    )


async def find_user(conn: asyncpg.Connection, *, username: str) -> StoredUser | None:
    row = await conn.fetchrow(
        f"SELECT {_USER_COLUMNS}, u.password_hash, u.disabled FROM users u WHERE u.username = $1",
        username,
    )
    if row is None:
        return None
    return StoredUser(user=_user(row), password_hash=row["password_hash"], disabled=row["disabled"])


async def upsert_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    display_name: str,
    role: Role,
    organisation_id: uuid.UUID | None,
    password_hash: str,
) -> uuid.UUID:
    user_id: uuid.UUID = await conn.fetchval(
        """INSERT INTO users (id, username, display_name, role, organisation_id, password_hash)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (username) DO UPDATE
              SET display_name = EXCLUDED.display_name, role = EXCLUDED.role,
                  organisation_id = EXCLUDED.organisation_id,
                  password_hash = EXCLUDED.password_hash, disabled = false, updated_at = now()
           RETURNING id""",
        uuid.uuid4(),
        username,
        display_name,
        role.value,
        organisation_id,
        password_hash,
    )
    return user_id


async def insert_session(
    conn: asyncpg.Connection,
    *,
    id_hash: str,
    user_id: uuid.UUID | None,
    csrf_token: str,
    expires_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)",
        id_hash,
        user_id,
        csrf_token,
        expires_at,
    )


async def get_session(conn: asyncpg.Connection, *, id_hash: str, now: datetime) -> Session | None:
    row = await conn.fetchrow(
        f"""SELECT s.id_hash, s.csrf_token, s.expires_at, s.user_id, {_USER_COLUMNS}
              FROM sessions s LEFT JOIN users u ON u.id = s.user_id AND NOT u.disabled
             WHERE s.id_hash = $1 AND s.expires_at > $2""",
        id_hash,
        now,
    )
    if row is None:
        return None
    if row["user_id"] is not None and row["id"] is None:
        return None  # the user was disabled since: the session is void
    user = _user(row) if row["id"] is not None else None
    return Session(
        id_hash=row["id_hash"], user=user, csrf_token=row["csrf_token"], expires_at=row["expires_at"]
    )


async def delete_session(conn: asyncpg.Connection, *, id_hash: str) -> None:
    await conn.execute("DELETE FROM sessions WHERE id_hash = $1", id_hash)


async def delete_expired_sessions(conn: asyncpg.Connection, *, now: datetime) -> int:
    status: str = await conn.execute("DELETE FROM sessions WHERE expires_at <= $1", now)
    return int(status.rsplit(" ", 1)[-1])


async def record_sign_in_failure(conn: asyncpg.Connection, *, username: str, at: datetime) -> None:
    await conn.execute("INSERT INTO sign_in_failures (username, failed_at) VALUES ($1, $2)", username, at)


async def count_sign_in_failures(conn: asyncpg.Connection, *, username: str, since: datetime) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM sign_in_failures WHERE username = $1 AND failed_at > $2", username, since
    )
    return count


async def clear_sign_in_failures(conn: asyncpg.Connection, *, username: str) -> None:
    await conn.execute("DELETE FROM sign_in_failures WHERE username = $1", username)


async def record_replay(
    conn: asyncpg.Connection, *, topic: str, partition: int, offset: int, replayed_by: str
) -> None:
    await conn.execute(
        "INSERT INTO dead_letter_replays (topic, partition, dlt_offset, replayed_by) VALUES ($1, $2, $3, $4)",
        topic,
        partition,
        offset,
        replayed_by,
    )


async def replays_of(conn: asyncpg.Connection, *, topic: str) -> dict[tuple[int, int], tuple[str, datetime]]:
    rows = await conn.fetch(
        """SELECT DISTINCT ON (partition, dlt_offset) partition, dlt_offset, replayed_by, replayed_at
             FROM dead_letter_replays WHERE topic = $1
            ORDER BY partition, dlt_offset, replayed_at DESC""",
        topic,
    )
    return {(r["partition"], r["dlt_offset"]): (r["replayed_by"], r["replayed_at"]) for r in rows}
