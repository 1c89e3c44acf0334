"""Sample partner webhook receiver: verifies Tsunagu's signed handoffs the way a partner NPO would.

How a partner verifies a delivery (this file is the reference implementation, stdlib only; the
`standardwebhooks` library does the same in one call, see the README's partner section):

1. Tsunagu POSTs JSON to the partner's registered URL, here ``/hooks/<organisation_id>``, with
   the Standard Webhooks headers

   - ``webhook-id``: the delivery id, unique per delivery, repeated unchanged on every retry;
   - ``webhook-timestamp``: the sending time, unix seconds;
   - ``webhook-signature``: ``v1,<base64>``; during a secret rotation several space-separated
     values, one per valid secret, and one match is enough.

2. The key is the secret's text after ``whsec_``, base64-decoded (secrets issued before the
   standard are base64url). Compute ``base64(HMAC-SHA256(key, f"{id}.{timestamp}.".encode() +
   raw_body))`` over the raw request bytes (before any JSON parsing) and compare it with each
   ``v1,`` value using ``hmac.compare_digest`` (constant time, so the comparison leaks nothing).

3. Reject the request if ``|now - timestamp| > 300`` seconds: a captured request cannot be
   replayed later. The id and the timestamp are inside the signed bytes, so neither can be altered.

4. Deduplicate on ``webhook-id``: Tsunagu retries until it sees a 2xx, so the same delivery may
   arrive more than once. Answer 200 again, but do not act on it twice.

During the transition a POST also carries the older ``Tsunagu-Timestamp``,
``Tsunagu-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`` and
``Tsunagu-Delivery-Id``; this receiver falls back to them only when the standard headers are absent.

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
import base64
import binascii
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
from collections.abc import Mapping
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, Final

REPLAY_WINDOW_SECONDS: Final = 300
MAX_BODY_BYTES: Final = 1024 * 1024
HOOK_PREFIX: Final = "/hooks/"


def standard_key(secret: str) -> bytes:
    """The HMAC key: the base64 text after ``whsec_``, decoded (base64url for older secrets)."""
    encoded = secret.removeprefix("whsec_")
    decode = base64.urlsafe_b64decode if ("-" in encoded or "_" in encoded) else base64.b64decode
    try:
        key = decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        key = b""
    return key or secret.encode()


def standard_signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    message = f"{delivery_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(standard_key(secret), message, hashlib.sha256).digest()).decode()


def older_signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def any_matches(wanted: list[str], offered: list[str]) -> bool:
    # Every pair is compared (no early exit) so timing does not tell which secret matched.
    matched = False
    for expected in wanted:
        for candidate in offered:
            matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    return matched


class Refused(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def verified(headers: Mapping[str, str] | Message, secrets: list[str], body: bytes) -> tuple[str, str]:
    """(delivery id, timestamp) of a delivery signed with one of `secrets`; `Refused` if not."""
    if headers.get("webhook-signature") is not None:
        id_header = "webhook-id"
        delivery_id = headers.get(id_header, "").strip()
        timestamp = headers.get("webhook-timestamp", "").strip()
        offered = [v[3:] for v in headers.get("webhook-signature", "").split() if v.startswith("v1,")]
        wanted = [standard_signature(s, delivery_id, timestamp, body) for s in secrets]
    else:  # the older headers, sent alongside during the transition
        id_header = "Tsunagu-Delivery-Id"
        delivery_id = headers.get(id_header, "").strip()
        timestamp = headers.get("Tsunagu-Timestamp", "").strip()
        offered = [
            v.strip()[3:]
            for v in headers.get("Tsunagu-Signature", "").split(",")
            if v.strip().startswith("v1=")
        ]
        wanted = [older_signature(s, timestamp, body) for s in secrets]
    if not timestamp.isdigit():
        raise Refused(HTTPStatus.BAD_REQUEST, "the timestamp must be unix seconds")
    if not delivery_id:
        raise Refused(HTTPStatus.BAD_REQUEST, f"{id_header} missing")
    if not offered:
        raise Refused(HTTPStatus.UNAUTHORIZED, "no v1 signature")
    if abs(time.time() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise Refused(HTTPStatus.UNAUTHORIZED, "timestamp outside the 300 s replay window")
    if not any_matches(wanted, offered):
        raise Refused(HTTPStatus.UNAUTHORIZED, "signature does not match")
    return delivery_id, timestamp


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

        secrets = self.inbox.secrets_for(organisation_id)
        if not secrets:
            self._error(HTTPStatus.NOT_FOUND, f"no webhook secret for organisation {organisation_id}")
            return
        try:
            delivery_id, timestamp = verified(self.headers, secrets, body)
        except Refused as refusal:
            self._error(refusal.status, str(refusal))
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


def make_server(host: str, port: int, state_dir: Path) -> ThreadingHTTPServer:
    """The receiver, bound (port 0: any free port) but not yet serving."""
    inbox = Inbox(state_dir / "receiver")
    handler = type("BoundHandler", (Handler,), {"inbox": inbox})
    return ThreadingHTTPServer((host, port), handler)


def serve(host: str, port: int, state_dir: Path) -> None:
    server = make_server(host, port, state_dir)
    log(f"listening on http://{host}:{port}/hooks/<organisation_id>; state {state_dir / 'receiver'}")
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
