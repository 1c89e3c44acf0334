"""`python -m eventkit.topics`: create every topic of the contracts, idempotently."""

import asyncio
import os
import sys

from contracts.topics import ALL_TOPICS
from eventkit.kafka import ensure_topics


def main() -> int:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    created = asyncio.run(ensure_topics(servers, ALL_TOPICS))
    for name in created:
        print(f"created topic {name}", file=sys.stderr)
    print(f"{len(ALL_TOPICS)} topics present on {servers} ({len(created)} new)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
