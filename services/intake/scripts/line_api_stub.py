"""A local stand-in for LINE's Messaging API (reply and push), for tests and the local stack.

intake sends its chat replies to `INTAKE_LINE_API_BASE_URL`; in production that is
https://api.line.me, here it is this process, so that nothing leaves the machine. It checks what
LINE checks (a bearer token, the message count, a repeated X-Line-Retry-Key answers 409) and keeps
what it was sent in memory, listed by `GET /sent` (`?to=<user id>` filters pushes).

Standard library only. What it receives is chat content: it is never written to disk or logged,
only counted.

    python services/intake/scripts/line_api_stub.py --port 8108 --access-token <token>
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

MAX_BODY_BYTES = 1024 * 1024


class Outbox:
    """What intake sent, and the switch tests use to make LINE refuse."""

    def __init__(self, access_token: str | None) -> None:
        self.access_token = access_token
        self.fail_with: int | None = None
        self._lock = threading.Lock()
        self._sent: list[dict[str, Any]] = []
        self._retry_keys: set[str] = set()

    def record(self, entry: dict[str, Any], retry_key: str | None) -> bool:
        with self._lock:
            if retry_key is not None:
                if retry_key in self._retry_keys:
                    return False
                self._retry_keys.add(retry_key)
            self._sent.append(entry)
            return True

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._sent if to is None or e.get("to") == to]


def make_handler(outbox: Outbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "LineApiStub/1"

        def _reply(self, status: int, payload: Any) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines carry nothing useful and bodies must not be logged

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path in ("/readyz", "/healthz"):
                self._reply(HTTPStatus.OK, {"status": "ok"})
            elif url.path == "/sent":
                to = urllib.parse.parse_qs(url.query).get("to", [None])[0]
                self._reply(HTTPStatus.OK, outbox.sent(to))
            else:
                self._reply(HTTPStatus.NOT_FOUND, {"message": "Not found"})

        def do_POST(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            kind = {"/v2/bot/message/reply": "reply", "/v2/bot/message/push": "push"}.get(url.path)
            if kind is None:
                self._reply(HTTPStatus.NOT_FOUND, {"message": "Not found"})
                return
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            if scheme != "Bearer" or not token or (outbox.access_token and token != outbox.access_token):
                self._reply(HTTPStatus.UNAUTHORIZED, {"message": "Authentication failed"})
                return
            if outbox.fail_with is not None:
                self._reply(outbox.fail_with, {"message": "The stand-in was told to fail"})
                return
            length = int(self.headers.get("Content-Length", "0") or 0)
            if length > MAX_BODY_BYTES:
                self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Too large"})
                return
            try:
                body = json.loads(self.rfile.read(length))
            except ValueError:
                self._reply(HTTPStatus.BAD_REQUEST, {"message": "The request body has 1 error(s)"})
                return
            messages = body.get("messages") if isinstance(body, dict) else None
            target = body.get("replyToken" if kind == "reply" else "to") if isinstance(body, dict) else None
            if not isinstance(messages, list) or not 1 <= len(messages) <= 5 or not target:
                self._reply(HTTPStatus.BAD_REQUEST, {"message": "The request body has 1 error(s)"})
                return
            entry = {"kind": kind, "messages": messages, "at": time.time()}
            entry["reply_token" if kind == "reply" else "to"] = target
            if not outbox.record(entry, self.headers.get("X-Line-Retry-Key")):
                self._reply(HTTPStatus.CONFLICT, {"message": "The retry key is already accepted"})
                return
            self._reply(HTTPStatus.OK, {"sentMessages": [{"id": str(time.time_ns())} for _ in messages]})

    return Handler


class LineApiStub:
    """The stand-in in a background thread of the calling process (tests); `url` is its base URL."""

    def __init__(self, access_token: str | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.outbox = Outbox(access_token)
        self._server = ThreadingHTTPServer((host, port), make_handler(self.outbox))
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LineApiStub:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8108)
    parser.add_argument(
        "--access-token",
        default=os.environ.get("LINE_API_STUB_ACCESS_TOKEN"),
        help="the token intake must send (default: $LINE_API_STUB_ACCESS_TOKEN; any, if neither)",
    )
    args = parser.parse_args(argv)
    outbox = Outbox(args.access_token)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(outbox))

    def stop(signum: int, _: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(f"LINE API stand-in listening on http://{args.host}:{args.port}\n")
    sys.stdout.flush()
    server.serve_forever()
    sys.stdout.write(f"LINE API stand-in stopped after {len(outbox.sent())} messages\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
