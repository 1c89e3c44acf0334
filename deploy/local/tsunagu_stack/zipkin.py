"""The trace backend: Zipkin's server jar from Maven Central, traces kept in memory only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from tsunagu_stack import maven
from tsunagu_stack.core import LOOPBACK, say
from tsunagu_stack.probes import check_port_free, http_ok, wait_ready
from tsunagu_stack.processes import Processes
from tsunagu_stack.state import StateDir

ZIPKIN_VERSION: Final = "3.5.1"
ZIPKIN_JAR: Final = f"zipkin-server-{ZIPKIN_VERSION}-exec.jar"
ZIPKIN_READY_TIMEOUT: Final = 90.0


class Zipkin:
    def __init__(self, state: StateDir, ports: dict[str, int], processes: Processes) -> None:
        self.state = state
        self.ports = ports
        self.processes = processes

    @property
    def jar(self) -> Path:
        return self.state.cache / "zipkin" / ZIPKIN_JAR

    def health_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['zipkin']}/health"

    def ui_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['zipkin']}/zipkin/"

    def healthy(self) -> bool:
        return http_ok(self.health_url())

    def _ensure_jar(self) -> None:
        stamp = f"zipkin-server={ZIPKIN_VERSION}\n"
        if maven.fetched(self.jar.parent, stamp) and self.jar.exists():
            return
        mvn = maven.mvn()
        say(f"zipkin: fetching zipkin-server {ZIPKIN_VERSION} from Maven Central (once, 130 MB)…")
        maven.fetch_into(
            self.jar.parent,
            lambda out: [
                mvn,
                "-q",
                "-B",
                "dependency:copy",
                f"-Dartifact=io.zipkin:zipkin-server:{ZIPKIN_VERSION}:jar:exec",
                f"-DoutputDirectory={out}",
            ],
            "fetching the Zipkin server jar with Maven",
            stamp,
        )

    def start(self) -> int:
        """Launch Zipkin unless ours runs; its pid, to be waited on with wait()."""
        pid = self.processes.running_pid("zipkin")
        if pid is not None:
            return pid
        check_port_free(self.ports, "zipkin")
        self._ensure_jar()
        port = self.ports["zipkin"]
        # Zipkin maps many environment variables onto collectors and storage (a stray
        # KAFKA_BOOTSTRAP_SERVERS would make it consume from our broker), so it gets a
        # minimal environment rather than ours.
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "JAVA_HOME", "USER")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        # A case makes about 70 spans: 200k spans keep the last ~3k cases within a 1 GiB heap.
        env.update(QUERY_PORT=str(port), STORAGE_TYPE="mem", MEM_MAX_SPANS="200000")
        # Zipkin serves through Armeria configured by Spring Boot; a list property replaces the
        # whole list, so the port entry is restated in full with ip= to bind loopback only.
        return self.processes.launch(
            "zipkin",
            f"{LOOPBACK}:{port}",
            [
                maven.java(),
                "-Xmx1g",
                "-XX:+ExitOnOutOfMemoryError",
                "-jar",
                str(self.jar),
                f"--armeria.ports[0].ip={LOOPBACK}",
                f"--armeria.ports[0].port={port}",
                "--armeria.ports[0].protocols[0]=http",
            ],
            env,
            self.jar.parent,
        )

    def wait(self, pid: int) -> None:
        if not self.healthy():
            say("zipkin: waiting for /health…")
            wait_ready(self.processes, "zipkin", pid, self.healthy, ZIPKIN_READY_TIMEOUT)
        say(f"zipkin: ready, UI at {self.ui_url()} (traces kept in memory only)")
