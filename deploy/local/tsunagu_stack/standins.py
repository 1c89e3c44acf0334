"""Local stand-ins for the world outside Tsunagu: a sample partner's webhook receiver, an SMTP sink
for notify's e-mail, and LINE's Messaging API. Nothing of the stack reaches the internet."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from tsunagu_stack.core import LINE_API, LOCAL_DIR, LOOPBACK, MAIL, RECEIVER, say
from tsunagu_stack.probes import check_port_free, http_ok, wait_ready
from tsunagu_stack.processes import Processes
from tsunagu_stack.project import Project
from tsunagu_stack.secret_store import SecretStore
from tsunagu_stack.state import StateDir


class StandIns:
    def __init__(
        self,
        state: StateDir,
        ports: dict[str, int],
        processes: Processes,
        project: Project,
        secrets: SecretStore,
    ) -> None:
        self.state = state
        self.ports = ports
        self.processes = processes
        self.project = project
        self.secrets = secrets

    def url(self, name: str) -> str:
        return f"http://{LOOPBACK}:{self.ports[name]}"

    def _start(self, name: str, argv: list[str], *, says: str, ready: Callable[[], bool], **env: str) -> None:
        """Start stand-in `name` unless it runs already, saying so; then wait until it is `ready`."""
        with self.state.lock():
            pid = self.processes.running_pid(name)
            if pid is None:
                check_port_free(self.ports, name)
                say(says)
                environ = dict(os.environ, PYTHONUNBUFFERED="1", **env)
                pid = self.processes.spawn(name, argv, environ, self.project.root).pid
            if not ready():
                wait_ready(self.processes, name, pid, ready, 15)

    def _argv(self, python: str, script: Path, name: str, *more: str) -> list[str]:
        return [python, str(script), "--host", LOOPBACK, "--port", str(self.ports[name]), *more]

    def start_receiver(self) -> None:
        """The sample partner's webhook receiver (deploy/local/partner_receiver.py)."""
        url = f"{self.url(RECEIVER)}/readyz"
        self.state.receiver.mkdir(parents=True, exist_ok=True)
        self._start(
            RECEIVER,
            self._argv(
                sys.executable,
                LOCAL_DIR / "partner_receiver.py",
                RECEIVER,
                "--state-dir",
                str(self.state.path),
            ),
            says=f"receiver: starting sample partner webhook receiver on {self.url(RECEIVER)} "
            f"(log: {self.processes.log_path(RECEIVER)})",
            ready=lambda: http_ok(url),
        )

    def mail_ready(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.ports[MAIL]), timeout=2) as sock:
                return sock.recv(3) == b"220"
        except OSError:
            return False

    def start_mail_sink(self) -> None:
        """The SMTP sink that keeps notify's e-mail alerts as files in <state>/mail/."""
        self._start(
            MAIL,
            # aiosmtpd is in the project venv
            self._argv(
                self.project.python, LOCAL_DIR / "mail_sink.py", MAIL, "--state-dir", str(self.state.path)
            ),
            says=f"mail: starting the SMTP sink on {LOOPBACK}:{self.ports[MAIL]}, messages in "
            f"{self.state.mail} (log: {self.processes.log_path(MAIL)})",
            ready=self.mail_ready,
        )

    def start_line_api(self) -> None:
        """The LINE Messaging API stand-in (services/intake/scripts/line_api_stub.py)."""
        url = f"{self.url(LINE_API)}/readyz"
        self._start(
            LINE_API,
            self._argv(
                sys.executable,
                self.project.root / "services" / "intake" / "scripts" / "line_api_stub.py",
                LINE_API,
            ),
            says=f"line-api: starting the LINE Messaging API stand-in on {self.url(LINE_API)} "
            f"(sent messages: {self.url(LINE_API)}/sent)",
            ready=lambda: http_ok(url),
            LINE_API_STUB_ACCESS_TOKEN=self.secrets.channel("line_channel_access_token"),
        )
