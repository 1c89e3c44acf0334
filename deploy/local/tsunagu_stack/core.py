"""The stack's vocabulary: its components, their ports, and how it speaks to the person running it."""

# Standard library only, in every module of this package: the stack runs before the project venv
# exists (it is what a newcomer runs first), and the test suite imports it without side effects.

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from tsunagu_stack.services import DECLARED
from tsunagu_stack.settings import LOOPBACK as LOOPBACK  # every module takes it from here

SERVICES: Final = tuple(service.name for service in DECLARED)
# The HTTP APIs; "web" serves the screens (and signs people in) rather than an API.
API_SERVICES: Final = ("intake", "referral", "directory", "notify")
WEB: Final = "web"
INFRA: Final = ("postgres", "kafka", "zipkin")
RECEIVER: Final = "receiver"
MAIL: Final = "mail"  # a local SMTP sink for notify's e-mail alerts (deploy/local/mail_sink.py)
# A local stand-in for LINE's Messaging API, where intake sends chat replies (never the internet).
LINE_API: Final = "line-api"
COMPONENTS: Final = (*INFRA, *SERVICES, RECEIVER, MAIL, LINE_API)

DEFAULT_PORTS: Final[Mapping[str, int]] = {
    "postgres": 54329,
    "kafka": 19092,
    "kafka-controller": 19093,
    "zipkin": 9411,
    **{service.name: service.port for service in DECLARED},
    "receiver": 8109,
    "mail": 8025,
    "line-api": 8108,
    "prometheus": 9090,  # optional: `make up PROMETHEUS=1`
}
# STACK_<COMPONENT>_PORT moves a component elsewhere; PostgreSQL's is the short STACK_PG_PORT.
PORT_ENV: Final[Mapping[str, str]] = {
    name: "STACK_PG_PORT" if name == "postgres" else f"STACK_{name.upper().replace('-', '_')}_PORT"
    for name in DEFAULT_PORTS
}

# deploy/local: the scripts the stack launches (partner_receiver.py, mail_sink.py), jars/, sample/.
LOCAL_DIR: Final = Path(__file__).resolve().parents[1]
REPO_ROOT: Final = LOCAL_DIR.parents[1]


class StackError(RuntimeError):
    """A component could not be brought to the requested state; the message says what to do."""


def port_from_env(name: str) -> int:
    raw = os.environ.get(PORT_ENV[name])
    if not raw:
        return DEFAULT_PORTS[name]
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError(f"{PORT_ENV[name]}={raw!r} is not a TCP port number")
    return int(raw)


def ports_from_env() -> dict[str, int]:
    """Every port of the stack, each overridable by its STACK_*_PORT variable."""
    return {name: port_from_env(name) for name in DEFAULT_PORTS}


def emit(text: str) -> None:
    """Print, tolerating a reader that leaves early (`stack.py status | head`): the caller's
    exit code must still reach the shell."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def warn(message: str) -> None:
    print(f"[stack] WARNING: {message}", flush=True)
