"""asyncpg pool creation and the numbered-migration runner."""

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import orjson

from eventkit.dbtrace import AfterCommit, CommitHooks, TracedConnection

log = logging.getLogger(__name__)

EVENTKIT_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any constant shared by all runners of every service; each service has its own database.
_MIGRATION_LOCK = 7_305_211


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode("utf-8")


# Each pool's hooks, shared by the connections it opens now and after a reconnect; keyed by the
# pool itself (hashed by identity; asyncpg's pools take no weak references), closed pools pruned
# on each new one.
_HOOKS: dict[asyncpg.Pool, CommitHooks] = {}


async def _init_connection(conn: asyncpg.Connection, hooks: CommitHooks | None = None) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=_json_text, decoder=orjson.loads, schema="pg_catalog")
    if hooks is not None:
        conn.hooks = hooks


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """What the pool runs on release after asyncpg's own part (which rolls back an open transaction
    and drops listeners): nothing. asyncpg's default would send `pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL` — a round trip on every unit of work, for session state that pooled
    connections never hold here: locks are transaction-scoped (`pg_advisory_xact_lock`), LISTEN and
    the relay's session lock live on connections of their own, and nothing runs `SET` or keeps a
    cursor outside its transaction."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    hooks = CommitHooks()
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=functools.partial(_init_connection, hooks=hooks),
        reset=_reset_connection,
        command_timeout=30,
        connection_class=TracedConnection,
    )
    assert pool is not None
    for known in list(_HOOKS):
        if known.is_closing():
            del _HOOKS[known]
    _HOOKS[pool] = hooks
    return pool


def on_commit(pool: asyncpg.Pool, callback: AfterCommit | None) -> bool:
    """Hand what each of the pool's transactions stages (`dbtrace.staged(conn)`) to `callback` once
    that transaction has committed; None stops it. False for a pool not made by `create_pool`."""
    hooks = _HOOKS.get(pool)
    if hooks is None:
        return False
    hooks.after_commit = callback
    return True


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, connection_class=TracedConnection)
    await _init_connection(conn)
    return conn


@dataclass(frozen=True)
class MigrationSource:
    """A component's folder of forward-only files named NNNN_description.sql."""

    component: str
    folder: Path

    def files(self) -> list[tuple[str, Path]]:
        found = []
        for path in sorted(self.folder.glob("*.sql")):
            match = _MIGRATION_NAME.match(path.name)
            if not match:
                raise ValueError(f"{path}: migration files are named NNNN_description.sql")
            found.append((match.group(1), path))
        versions = [v for v, _ in found]
        if len(set(versions)) != len(versions):
            raise ValueError(f"{self.folder}: two migrations share a number")
        return found


async def migrate(dsn: str, sources: Sequence[MigrationSource]) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; returns what was applied.

    An advisory lock serialises replicas starting at once: the second waits and then finds
    nothing left to do.
    """
    applied: list[str] = []
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       component  text NOT NULL,
                       version    text NOT NULL,
                       name       text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now(),
                       PRIMARY KEY (component, version))"""
            )
            for source in sources:
                done = {
                    row["version"]
                    for row in await conn.fetch(
                        "SELECT version FROM schema_migrations WHERE component = $1",
                        source.component,
                    )
                }
                for version, path in source.files():
                    if version in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(path.read_text(encoding="utf-8"))
                        await conn.execute(
                            "INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)",
                            source.component,
                            version,
                            path.name,
                        )
                    applied.append(f"{source.component}/{path.name}")
                    log.info("applied migration %s/%s", source.component, path.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    finally:
        await conn.close()
    return applied


def service_migrations(component: str, folder: Path) -> list[MigrationSource]:
    """The shared outbox/inbox tables first, then the service's own."""
    return [MigrationSource("eventkit", EVENTKIT_MIGRATIONS), MigrationSource(component, folder)]
