"""`python -m eventkit.migrate <service>`: apply a service's migrations and exit (Kubernetes runs it
as a Job before a rollout; the servers apply the same migrations at start, under the same lock).

The database is the service's own `<SERVICE>_DATABASE_URL`; nothing else is read.
"""

import asyncio
import importlib
import logging
import os
import sys

from eventkit.db import MigrationSource, migrate, service_migrations

SERVICES = ("intake", "referral", "directory", "notify", "web")


def sources(service: str) -> list[MigrationSource]:
    folder = importlib.import_module(f"{service}.main").MIGRATIONS
    # The screens keep no outbox: only their own tables.
    return [MigrationSource(service, folder)] if service == "web" else service_migrations(service, folder)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in SERVICES:
        print(f"usage: python -m eventkit.migrate {{{','.join(SERVICES)}}}", file=sys.stderr)
        return 2
    [service] = argv
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    dsn = os.environ[f"{service.upper()}_DATABASE_URL"]
    applied = asyncio.run(migrate(dsn, sources(service)))
    print(f"{service}: {len(applied)} migrations applied", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
