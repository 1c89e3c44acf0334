"""Local stand-ins for the world outside Tsunagu: a sample partner's webhook receiver, an SMTP sink
for notify's e-mail, and LINE's Messaging API. Nothing of the stack reaches the internet."""

from __future__ import annotations

import os
import socket
import sys

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

    def start_receiver(self) -> None:
        """The sample partner's webhook receiver (deploy/local/partner_receiver.py)."""
        with self.state.lock():
            url = f"{self.url(RECEIVER)}/readyz"
            pid = self.processes.running_pid(RECEIVER)
            if pid is None:
                check_port_free(self.ports, RECEIVER)
                self.state.receiver.mkdir(parents=True, exist_ok=True)
                script = LOCAL_DIR / "partner_receiver.py"
                say(
                    f"receiver: starting sample partner webhook receiver on "
                    f"{self.url(RECEIVER)} (log: {self.processes.log_path(RECEIVER)})"
                )
                argv = [
                    sys.executable,
                    str(script),
                    "--host",
                    LOOPBACK,
                    "--port",
                    str(self.ports[RECEIVER]),
                    "--state-dir",
                    str(self.state.path),
                ]
                env = dict(os.environ, PYTHONUNBUFFERED="1")
                pid = self.processes.spawn(RECEIVER, argv, env, self.project.root).pid
            if not http_ok(url):
                wait_ready(self.processes, RECEIVER, pid, lambda: http_ok(url), 15)

    def mail_ready(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.ports[MAIL]), timeout=2) as sock:
                return sock.recv(3) == b"220"
        except OSError:
            return False

    def start_mail_sink(self) -> None:
        """The SMTP sink that keeps notify's e-mail alerts as files in <state>/mail/."""
        with self.state.lock():
            pid = self.processes.running_pid(MAIL)
            if pid is None:
                check_port_free(self.ports, MAIL)
                script = LOCAL_DIR / "mail_sink.py"
                say(
                    f"mail: starting the SMTP sink on {LOOPBACK}:{self.ports[MAIL]}, messages in "
                    f"{self.state.mail} (log: {self.processes.log_path(MAIL)})"
                )
                argv = [
                    self.project.python,  # aiosmtpd is in the project venv
                    str(script),
                    "--host",
                    LOOPBACK,
                    "--port",
                    str(self.ports[MAIL]),
                    "--state-dir",
                    str(self.state.path),
                ]
                env = dict(os.environ, PYTHONUNBUFFERED="1")
                pid = self.processes.spawn(MAIL, argv, env, self.project.root).pid
            if not self.mail_ready():
                wait_ready(self.processes, MAIL, pid, self.mail_ready, 15)

    def start_line_api(self) -> None:
        """The LINE Messaging API stand-in (services/intake/scripts/line_api_stub.py)."""
        with self.state.lock():
            url = f"{self.url(LINE_API)}/readyz"
            pid = self.processes.running_pid(LINE_API)
            if pid is None:
                check_port_free(self.ports, LINE_API)
                script = self.project.root / "services" / "intake" / "scripts" / "line_api_stub.py"
                say(
                    f"line-api: starting the LINE Messaging API stand-in on {self.url(LINE_API)} "
                    f"(sent messages: {self.url(LINE_API)}/sent)"
                )
                argv = [sys.executable, str(script), "--host", LOOPBACK, "--port", str(self.ports[LINE_API])]
                token = self.secrets.channel("line_channel_access_token")
                env = dict(os.environ, PYTHONUNBUFFERED="1", LINE_API_STUB_ACCESS_TOKEN=token)
                pid = self.processes.spawn(LINE_API, argv, env, self.project.root).pid
            if not http_ok(url):
                wait_ready(self.processes, LINE_API, pid, lambda: http_ok(url), 15)
