"""Local mail sink: an SMTP server (aiosmtpd) that keeps every message as a file instead of sending it.

The local stack starts it on 127.0.0.1:8025 and points notify's e-mail alerts at it
(NOTIFY_SMTP_HOST/PORT), so a newcomer can read the alerts partners would get:

    ls .stack/mail/                      # one <time>-<n>.eml per message, newest last
    python deploy/local/stack.py logs mail

Each message is written whole (headers and body) to ``<state>/mail/``; this process's log gets one
line per message with its recipients and subject (the alerts carry codes only, never personal data).
Run it with the project venv's Python: aiosmtpd is a development dependency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import signal
import sys
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path
from types import FrameType
from typing import Any

from aiosmtpd.controller import Controller


def log(message: str) -> None:
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    print(f"{stamp} mail: {message}", flush=True)


class Sink:
    """aiosmtpd handler: accepts every recipient and writes each message to a file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.content
        with self._lock:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
            path = self.directory / f"{stamp}-{next(self._numbers)}.eml"
            path.write_bytes(content)
        subject = BytesParser(policy=policy.default).parsebytes(content, headersonly=True).get("Subject", "")
        log(f"{', '.join(envelope.rcpt_tos)}: {subject} → {path.name}")
        return "250 Message accepted for delivery"


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # `stack.py down` sends SIGTERM; leave the wait below the way Ctrl-C does.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("STACK_MAIL_PORT", 8025)))
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("STACK_DIR") or here.parents[2] / ".stack"),
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sink = Sink(args.state_dir / "mail")
    controller = Controller(sink, hostname=args.host, port=args.port)
    controller.start()
    log(f"listening on smtp://{args.host}:{args.port}; messages in {sink.directory}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
