"""The only module with SQL: users, sessions and failed sign-ins in web's own database."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from eventkit.auth import Role
from web.domain import Account, Failures, Session, User

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


async def display_names(conn: asyncpg.Connection, *, usernames: list[str]) -> dict[str, str]:
    """The names staff know each other by, for the usernames a timeline mentions."""
    rows = await conn.fetch(
        "SELECT username, display_name FROM users WHERE username = ANY($1::text[])", usernames
    )
    return {row["username"]: row["display_name"] for row in rows}


async def upsert_user(conn: asyncpg.Connection, account: Account, *, password_hash: str) -> uuid.UUID:
    user_id: uuid.UUID = await conn.fetchval(
        """INSERT INTO users (id, username, display_name, role, organisation_id, password_hash)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (username) DO UPDATE
              SET display_name = EXCLUDED.display_name, role = EXCLUDED.role,
                  organisation_id = EXCLUDED.organisation_id,
                  password_hash = EXCLUDED.password_hash, disabled = false, updated_at = now()
           RETURNING id""",
        uuid.uuid4(),
        account.username,
        account.display_name,
        account.role.value,
        account.organisation_id,
        password_hash,
    )
    return user_id


async def set_password_hash(conn: asyncpg.Connection, *, user_id: uuid.UUID, password_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", user_id, password_hash
    )


async def insert_session(
    conn: asyncpg.Connection,
    *,
    id_hash: str,
    user_id: uuid.UUID | None,
    csrf_token: str,
    expires_at: datetime,
    idle_timeout_s: int | None,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, idle_timeout_s, last_seen_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        id_hash,
        user_id,
        csrf_token,
        expires_at,
        idle_timeout_s,
        now,
    )


async def get_session(conn: asyncpg.Connection, *, id_hash: str, now: datetime) -> Session | None:
    """The session, unless expired or idle too long; reading it counts as activity."""
    row = await conn.fetchrow(
        f"""WITH seen AS (
              UPDATE sessions SET last_seen_at = $2
               WHERE id_hash = $1 AND expires_at > $2
                 AND (idle_timeout_s IS NULL OR last_seen_at + idle_timeout_s * interval '1 second' > $2)
              RETURNING id_hash, csrf_token, expires_at, user_id)
            SELECT s.id_hash, s.csrf_token, s.expires_at, s.user_id, {_USER_COLUMNS}
              FROM seen s LEFT JOIN users u ON u.id = s.user_id AND NOT u.disabled""",
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
    status: str = await conn.execute(
        """DELETE FROM sessions
            WHERE expires_at <= $1
               OR last_seen_at + idle_timeout_s * interval '1 second' <= $1""",
        now,
    )
    return int(status.rsplit(" ", 1)[-1])


async def lock_sign_in(conn: asyncpg.Connection, *, username: str, client: str) -> None:
    """Tries at one account, and from one client, are checked one after another until the
    transaction ends, so that parallel guesses cannot all read the count before any is written.
    Always the account first, then the client: no two tries wait for each other in a circle."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('web.sign-in.account:' || $1, 0))", username
    )
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('web.sign-in.client:' || $1, 0))", client
    )


async def record_sign_in_failure(
    conn: asyncpg.Connection, *, username: str, client: str, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO sign_in_failures (username, client, failed_at) VALUES ($1, $2, $3)", username, client, at
    )


async def sign_in_failures(
    conn: asyncpg.Connection, *, username: str, client: str, since: datetime
) -> tuple[Failures, Failures]:
    """Failures since `since` at this account, and from this client."""
    row = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE username = $1) AS account,
                  max(failed_at) FILTER (WHERE username = $1) AS account_last,
                  count(*) FILTER (WHERE client = $2) AS client,
                  max(failed_at) FILTER (WHERE client = $2) AS client_last
             FROM sign_in_failures
            WHERE failed_at > $3 AND (username = $1 OR client = $2)""",
        username,
        client,
        since,
    )
    assert row is not None
    return Failures(row["account"], row["account_last"]), Failures(row["client"], row["client_last"])


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


async def replays_of(
    conn: asyncpg.Connection, *, topic: str, letters: list[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, datetime]]:
    # Only the page's letters, each found through the (topic, partition, dlt_offset) index.
    rows = await conn.fetch(
        """SELECT DISTINCT ON (d.partition, d.dlt_offset)
                  d.partition, d.dlt_offset, d.replayed_by, d.replayed_at
             FROM dead_letter_replays d
             JOIN unnest($2::integer[], $3::bigint[]) AS page (partition, dlt_offset)
               ON d.partition = page.partition AND d.dlt_offset = page.dlt_offset
            WHERE d.topic = $1
            ORDER BY d.partition, d.dlt_offset, d.replayed_at DESC""",
        topic,
        [partition for partition, _ in letters],
        [offset for _, offset in letters],
    )
    return {(r["partition"], r["dlt_offset"]): (r["replayed_by"], r["replayed_at"]) for r in rows}
