"""Sample partner webhook receiver: verifies Tsunagu's signed handoffs the way a partner NPO would.

How a partner verifies a delivery (this file is the reference implementation, stdlib only):

1. Tsunagu POSTs JSON to the partner's registered URL, here ``/hooks/<organisation_id>``, with
   the headers

   - ``Tsunagu-Timestamp``: the sending time, unix seconds;
   - ``Tsunagu-Signature``: ``v1=<hex>``; during a secret rotation it carries several
     comma-separated ``v1=`` values, one per valid secret, and one match is enough;
   - ``Tsunagu-Delivery-Id``: unique per delivery, repeated unchanged on every retry.

2. Compute ``hex(HMAC-SHA256(key=secret as UTF-8, msg=f"{timestamp}.".encode() + raw_body))``
   over the raw request bytes (before any JSON parsing) and compare it with each ``v1=`` value
   using ``hmac.compare_digest`` (constant time, so the comparison leaks nothing).

3. Reject the request if ``|now - timestamp| > 300`` seconds: a captured request cannot be
   replayed later. The timestamp is inside the signed bytes, so it cannot be altered.

4. Deduplicate on ``Tsunagu-Delivery-Id``: Tsunagu retries until it sees a 2xx, so the same
   delivery may arrive more than once. Answer 200 again, but do not act on it twice.

Answers: 200 accepted (or already accepted), 400 malformed request, 401 bad or stale
signature, 404 no secret for that organisation, 413 body too large. Errors are JSON
``{"error": "..."}``.

Secrets are read from ``<state>/receiver/secrets.json`` (``{organisation_id: secret}``, or a
list of secrets while a partner rotates) on every request, so ``stack.py up`` can add one
without a restart. Verified deliveries are appended to ``<state>/receiver/received.jsonl``,
printed to this process's log, and listed by ``GET /received`` (``?organisation_id=`` filters).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, Final

REPLAY_WINDOW_SECONDS: Final = 300
MAX_BODY_BYTES: Final = 1024 * 1024
HOOK_PREFIX: Final = "/hooks/"


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_matches(header: str, secrets: list[str], timestamp: str, body: bytes) -> bool:
    offered = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    # Every pair is compared (no early exit) so timing does not tell which secret matched.
    matched = False
    for secret in secrets:
        wanted = expected_signature(secret, timestamp, body)
        for candidate in offered:
            matched |= hmac.compare_digest(wanted, candidate)
    return matched


class Inbox:
    """The received deliveries, on disk and in memory, with delivery-id deduplication."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.secrets_path = directory / "secrets.json"
        self.log_path = directory / "received.jsonl"
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._seen: set[str] = set()
        if self.log_path.exists():
            for line in self.log_path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    self._records.append(record)
                    self._seen.add(str(record.get("delivery_id")))

    def secrets_for(self, organisation_id: str) -> list[str]:
        try:
            data = json.loads(self.secrets_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return []
        value = data.get(organisation_id) if isinstance(data, dict) else None
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [item for item in value if isinstance(item, str)]
        return []

    def record(self, entry: dict[str, Any]) -> bool:
        """Store a verified delivery; False if this delivery id was already stored."""
        with self._lock:
            if entry["delivery_id"] in self._seen:
                return False
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._seen.add(entry["delivery_id"])
            self._records.append(entry)
            return True

    def list(self, organisation_id: str | None) -> list[dict[str, Any]]:
        with self._lock:
            records = list(self._records)
        if organisation_id:
            records = [r for r in records if r.get("organisation_id") == organisation_id]
        return records


class Handler(BaseHTTPRequestHandler):
    server_version = "TsunaguSamplePartner/1"
    inbox: Inbox  # set on the subclass built in serve()

    def _reply(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False, indent=2).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: HTTPStatus, message: str) -> None:
        log(f"rejected {self.command} {self.path}: {status.value} {message}")
        self._reply(status, {"error": message})

    def log_message(self, format: str, *args: Any) -> None:
        log(format % args)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path in ("/readyz", "/healthz"):
            self._reply(HTTPStatus.OK, {"status": "ok"})
        elif url.path == "/received":
            query = urllib.parse.parse_qs(url.query)
            organisation = query.get("organisation_id", [None])[0]
            self._reply(HTTPStatus.OK, self.inbox.list(organisation))
        else:
            self._error(HTTPStatus.NOT_FOUND, "not found; try GET /received")

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith(HOOK_PREFIX) or "/" in url.path[len(HOOK_PREFIX) :]:
            self._error(HTTPStatus.NOT_FOUND, "POST /hooks/<organisation_id>")
            return
        organisation_id = url.path[len(HOOK_PREFIX) :]
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "Content-Length required")
            return
        if length > MAX_BODY_BYTES:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
            return
        body = self.rfile.read(length)

        timestamp = self.headers.get("Tsunagu-Timestamp", "").strip()
        signature = self.headers.get("Tsunagu-Signature", "")
        delivery_id = self.headers.get("Tsunagu-Delivery-Id", "").strip()
        if not timestamp.isdigit():
            self._error(HTTPStatus.BAD_REQUEST, "Tsunagu-Timestamp must be unix seconds")
            return
        if not delivery_id:
            self._error(HTTPStatus.BAD_REQUEST, "Tsunagu-Delivery-Id missing")
            return
        if not signature:
            self._error(HTTPStatus.UNAUTHORIZED, "Tsunagu-Signature missing")
            return
        if abs(time.time() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            self._error(HTTPStatus.UNAUTHORIZED, "timestamp outside the 300 s replay window")
            return
        secrets = self.inbox.secrets_for(organisation_id)
        if not secrets:
            self._error(HTTPStatus.NOT_FOUND, f"no webhook secret for organisation {organisation_id}")
            return
        if not signature_matches(signature, secrets, timestamp, body):
            self._error(HTTPStatus.UNAUTHORIZED, "signature does not match")
            return

        # Only now, with the sender authenticated, is the body worth parsing.
        try:
            payload: Any = json.loads(body)
        except ValueError:
            payload = body.decode(errors="replace")
        entry = {
            "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "organisation_id": organisation_id,
            "delivery_id": delivery_id,
            "timestamp": int(timestamp),
            "traceparent": self.headers.get("traceparent"),
            "body": payload,
        }
        if self.inbox.record(entry):
            kind = payload.get("type") if isinstance(payload, dict) else None
            log(
                f"delivery {delivery_id} for organisation {organisation_id} verified"
                f"{f' ({kind})' if kind else ''}: "
                f"{json.dumps(payload, ensure_ascii=False)[:2000]}"
            )
            self._reply(HTTPStatus.OK, {"status": "received", "delivery_id": delivery_id})
        else:
            log(f"delivery {delivery_id} repeated: acknowledged, not recorded again")
            self._reply(HTTPStatus.OK, {"status": "duplicate", "delivery_id": delivery_id})


def log(message: str) -> None:
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    print(f"{stamp} receiver: {message}", flush=True)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # `stack.py down` sends SIGTERM; end serve_forever the way Ctrl-C does.
    raise KeyboardInterrupt


def serve(host: str, port: int, state_dir: Path) -> None:
    inbox = Inbox(state_dir / "receiver")
    handler = type("BoundHandler", (Handler,), {"inbox": inbox})
    server = ThreadingHTTPServer((host, port), handler)
    log(f"listening on http://{host}:{port}/hooks/<organisation_id>; inbox {inbox.log_path}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("STACK_RECEIVER_PORT", 8109)))
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("STACK_DIR") or here.parents[2] / ".stack"),
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    serve(args.host, args.port, args.state_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
