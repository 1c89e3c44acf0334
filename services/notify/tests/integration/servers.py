"""The real servers notify's integration tests send to, on free local ports: an HTTP server for a
request handler (partners' webhooks, the pager) and an SMTP server (aiosmtpd) that keeps what it
accepts. Imported relatively (`from .servers import ...`); conftest's `smtp` fixture runs the latter."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from notify.sender.mail import SmtpServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output free of its access log."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` serving on a free local port until the block ends; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class MailSink:
    """What the SMTP server accepted; it refuses the recipients listed in `refuse`."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    def server(self) -> SmtpServer:
        return SmtpServer(
            host="127.0.0.1", port=self.port, sender="Tsunagu <noreply@tsunagu.test>", timeout_s=5
        )


@contextmanager
def smtp_server() -> Iterator[MailSink]:
    """A real SMTP server (aiosmtpd) on a free local port until the block ends."""
    sink = MailSink()

    class Handler:
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address in sink.refuse:
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            sink.messages.append(BytesParser(policy=email_policy.default).parsebytes(envelope.content))
            sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            return "250 Message accepted"

    for _ in range(5):  # another process may take the probed port before the server binds it
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            sink.port = probe.getsockname()[1]
        controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port, ready_timeout=30)
        try:
            controller.start()
            break
        except OSError:
            continue
    else:
        raise RuntimeError("no free port for the test SMTP server")
    try:
        yield sink
    finally:
        controller.stop()
