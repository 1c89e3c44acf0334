"""`python -m web`: serve the screens with settings from WEB_* variables.

`python -m web seed-users` reads a JSON list of accounts on stdin ({username, display_name, role,
password, organisation_id?}) and creates or updates them; the local stack seeds its demo users so.
"""

import asyncio
import json
import sys
import uuid

from eventkit.auth import Role
from eventkit.db import MigrationSource, create_pool, migrate
from eventkit.runner import load_settings, serve
from web.config import Settings
from web.domain import Account
from web.main import MIGRATIONS, create_app
from web.service import upsert_accounts


async def _seed(settings: Settings, accounts: list[Account]) -> int:
    dsn = settings.database_url.get_secret_value()
    await migrate(dsn, [MigrationSource("web", MIGRATIONS)])
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        return await upsert_accounts(pool, accounts)
    finally:
        await pool.close()


def _accounts(raw: object) -> list[Account]:
    if not isinstance(raw, list):
        raise ValueError("expected a JSON list of accounts")
    accounts = []
    for entry in raw:
        org = entry.get("organisation_id")
        accounts.append(
            Account(
                username=str(entry["username"]),
                display_name=str(entry.get("display_name") or entry["username"]),
                role=Role(entry["role"]),
                password=str(entry["password"]),
                organisation_id=uuid.UUID(org) if org else None,
            )
        )
    return accounts


def main() -> None:
    settings = load_settings(Settings)
    if sys.argv[1:] == ["seed-users"]:
        try:
            accounts = _accounts(json.load(sys.stdin))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            print(f"seed-users: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        count = asyncio.run(_seed(settings, accounts))
        print(json.dumps({"seeded": count}))
        return
    if sys.argv[1:]:
        print("usage: python -m web [seed-users]", file=sys.stderr)
        raise SystemExit(2)
    serve(create_app(settings), settings, service="web")


if __name__ == "__main__":
    main()
