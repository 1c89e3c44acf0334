"""The `stack.py` commands: up, down, status, infra-up, seed, restart, logs, token."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from tsunagu_stack import report
from tsunagu_stack.core import COMPONENTS, StackError
from tsunagu_stack.processes import tail
from tsunagu_stack.stack import Stack

DESCRIPTION: Final = (
    "Local stack orchestrator: PostgreSQL, Kafka, Zipkin, the four services and a sample partner."
)


def _follow(path: Path, lines: int) -> None:
    print(tail(path, lines))
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        while True:
            chunk = fh.read()
            if chunk:
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
            else:
                time.sleep(0.5)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stack.py", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="infrastructure, topics, services, receiver, sample data")
    up.add_argument(
        "--replicas",
        type=int,
        default=int(os.environ.get("REPLICAS") or 1),
        help="processes per consumer service, sharing its partitions (default 1, or $REPLICAS)",
    )
    up.add_argument(
        "--prometheus",
        action="store_true",
        default=os.environ.get("PROMETHEUS", "") not in ("", "0"),
        help="also run a local Prometheus scraping every service, with the alert rules ($PROMETHEUS=1)",
    )
    commands.add_parser("down", help="stop everything (data is kept)")
    commands.add_parser("status", help="what runs where; exit 0 only if everything is up")
    commands.add_parser("infra-up", help="PostgreSQL, Kafka and Zipkin only")
    commands.add_parser("seed", help="(re)register the sample organisations")
    restart = commands.add_parser("restart", help="restart one component")
    restart.add_argument("name", choices=COMPONENTS)
    logs = commands.add_parser("logs", help="show a component's log")
    logs.add_argument("name", choices=COMPONENTS)
    logs.add_argument("-n", "--lines", type=int, default=100)
    logs.add_argument("-f", "--follow", action="store_true")
    token = commands.add_parser("token", help="print a bearer token")
    token.add_argument("--role", required=True)
    token.add_argument("--subject", required=True)
    token.add_argument("--organisation-id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        stack = Stack()
        if args.command == "up":
            failures = stack.up(replicas=args.replicas, prometheus=args.prometheus)
            print()
            print(report.welcome_text(stack))
            if failures:
                raise StackError(
                    f"not started: {', '.join(failures)} (see above; "
                    f"`python deploy/local/stack.py logs {failures[0]}`)"
                )
        elif args.command == "down":
            stack.down()
        elif args.command == "status":
            return report.status(stack)
        elif args.command == "infra-up":
            stack.ensure_infra()
            print(report.notes(stack))
        elif args.command == "seed":
            stack.seed_sample_data()
            stack.seed_web_users()
        elif args.command == "restart":
            stack.restart(args.name)
        elif args.command == "logs":
            path = stack.log_path(args.name)
            if args.follow:
                _follow(path, args.lines)
            else:
                print(tail(path, args.lines))
        elif args.command == "token":
            print(stack.mint_token(args.role, args.subject, args.organisation_id))
    except StackError as exc:
        print(f"[stack] ERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `stack.py status | head`: the reader left; exit quietly like other CLI tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0
