"""The optional local Prometheus (`make up PROMETHEUS=1`): Debian's server, scraping each running
service's /metrics on loopback and evaluating the project's alert rules (deploy/prometheus/rules.yaml),
so that a developer sees the figures and alerts an operator would.

bootstrap.sh puts the binary in the venv (from Debian's prometheus package, without its daemon).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from tsunagu_stack.core import LOOPBACK, REPO_ROOT, StackError, say
from tsunagu_stack.probes import check_port_free, http_ok, wait_ready
from tsunagu_stack.processes import Processes
from tsunagu_stack.state import StateDir, write_atomic

NAME: Final = "prometheus"
RULES: Final = REPO_ROOT / "deploy" / "prometheus" / "rules.yaml"
SCRAPE_INTERVAL: Final = "5s"  # short, so a developer sees a change within seconds
READY_TIMEOUT: Final = 60.0


def binary() -> str:
    found = shutil.which("prometheus") or str(REPO_ROOT / ".venv" / "bin" / "prometheus")
    if not Path(found).exists():
        raise StackError(
            "prometheus is not installed: run deploy/local/bootstrap.sh (it takes the binary from "
            "Debian's prometheus package), or `apt-get install prometheus`"
        )
    return found


def config_text(targets: Mapping[str, Sequence[str]]) -> str:
    """prometheus.yml: one job per service, its replicas' /metrics as targets."""
    lines = [
        "# Written by deploy/local/tsunagu_stack/prometheus.py on every start: edit it there.",
        "global:",
        f"  scrape_interval: {SCRAPE_INTERVAL}",
        f"  evaluation_interval: {SCRAPE_INTERVAL}",
        "rule_files:",
        f"  - {RULES}",
        "scrape_configs:",
    ]
    for job, addresses in targets.items():
        lines += [f"  - job_name: {job}", "    static_configs:", "      - targets:"]
        lines += [f"          - {address}" for address in addresses]
    return "\n".join(lines) + "\n"


class Prometheus:
    def __init__(self, state: StateDir, ports: Mapping[str, int], processes: Processes) -> None:
        self.state = state
        self.ports = ports
        self.processes = processes

    @property
    def folder(self) -> Path:
        return self.state.path / NAME

    @property
    def marker(self) -> Path:
        """Present while the stack runs with Prometheus: web then links the dashboard to it."""
        return self.folder / "enabled"

    @property
    def enabled(self) -> bool:
        return self.marker.exists()

    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports[NAME]}"

    def start(self, targets: Mapping[str, Sequence[str]]) -> None:
        """(Re)start it with these scrape targets; ready when it answers /-/ready."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / "prometheus.yml", config_text(targets))
        write_atomic(self.marker, "1\n")
        pid = self.processes.running_pid(NAME)
        if pid is not None:
            self.processes.stop(NAME, pid, 15, 20)
        check_port_free(self.ports, NAME)
        argv = [
            binary(),
            f"--config.file={self.folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.folder / 'data'}",
            "--storage.tsdb.retention.time=2d",
            f"--web.listen-address={LOOPBACK}:{self.ports[NAME]}",
        ]
        pid = self.processes.launch(NAME, self.url(), argv, {"PATH": "/usr/bin:/bin"}, self.folder)
        ready = f"{self.url()}/-/ready"
        wait_ready(self.processes, NAME, pid, lambda: http_ok(ready), READY_TIMEOUT)
        say(f"prometheus: ready at {self.url()}")

    def disable(self) -> None:
        self.marker.unlink(missing_ok=True)
