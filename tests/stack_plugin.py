"""pytest plugin (loaded with `-p stack_plugin`): PostgreSQL and Kafka for the tests, and the local stack.

Where a Docker engine answers, `infra` starts throwaway containers with testcontainers; otherwise
it starts, or reuses, the project's local stack (deploy/local/tsunagu_stack). The tests are the
same either way: they only see URLs. The per-test databases built on `infra` (`fresh_database`,
`eventkit.testing.service_database_fixtures`) come from eventkit's plugin.
"""

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.topics import ALL_TOPICS
from eventkit.testing import Infra

# The stack is a folder beside its entry script, not an installed package (it runs before the
# venv exists): its folder goes on the path, so that tests import it as `tsunagu_stack`.
LOCAL_STACK_DIR = Path(__file__).resolve().parents[1] / "deploy" / "local"
if str(LOCAL_STACK_DIR) not in sys.path:
    sys.path.append(str(LOCAL_STACK_DIR))

from tsunagu_stack import Stack  # noqa: E402


def local_stack(state_dir: Path | None = None) -> Stack:
    """The project's local stack; `state_dir` keeps a test's files out of the shared `.stack/`."""
    return Stack(state_dir=state_dir)


def docker_available() -> bool:
    if os.environ.get("TSUNAGU_TEST_INFRA") == "local":
        return False
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return probe.returncode == 0


def _containers() -> tuple[Infra, list[Any]]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    postgres = PostgresContainer("postgres:15", driver=None).start()
    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft().start()
    infra = Infra(
        admin_database_url=postgres.get_connection_url(),
        kafka_bootstrap_servers=kafka.get_bootstrap_server(),
        kind="testcontainers",
    )
    return infra, [kafka, postgres]


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """PostgreSQL and Kafka with every contract topic present."""
    started: list[Any] = []
    if docker_available():
        found, started = _containers()
    else:
        stack = local_stack()
        stack.ensure_infra()
        kafka = f"127.0.0.1:{stack.ports['kafka']}"
        found = Infra(stack.admin_database_url(), kafka, "local-stack")
    from eventkit.kafka import ensure_topics

    asyncio.run(ensure_topics(found.kafka_bootstrap_servers, ALL_TOPICS))
    try:
        yield found
    finally:
        for container in started:
            container.stop()
