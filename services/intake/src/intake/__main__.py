"""`python -m intake [serve | rotate-keys | purge | sign-example]` with settings from INTAKE_* variables."""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from eventkit.clock import system_clock
from eventkit.crypto import Keyring
from eventkit.db import create_pool
from eventkit.runner import load_settings, serve
from intake import examples
from intake.config import Settings, StorageSettings
from intake.retention import service as retention


def _serve() -> int:
    from intake.main import create_app

    settings = load_settings(Settings)
    serve(create_app(settings), settings, service="intake")
    return 0


async def _rotate(settings: StorageSettings, batch_size: int) -> int:
    pool = await create_pool(settings.database_url.get_secret_value(), min_size=1, max_size=2)
    try:
        await retention.rotate_keys(
            pool,
            Keyring(settings.encryption_keys.get_secret_value()),
            batch_size=batch_size,
            progress=lambda line: print(line, flush=True),
        )
    except retention.RotationFailed as error:
        print(f"rotate-keys: stopped: {error}", file=sys.stderr)
        return 1
    finally:
        await pool.close()
    return 0


async def _purge(settings: StorageSettings) -> int:
    pool = await create_pool(settings.database_url.get_secret_value(), min_size=1, max_size=2)
    try:
        report = await retention.purge(pool, now=system_clock(), retention_days=settings.retention_days)
    finally:
        await pool.close()
    print(
        f"purge: personal data removed from {report.consultations} consultations, "
        f"{report.call_legs} call legs and {report.chats} chats "
        f"(closed more than {settings.retention_days} days ago)"
    )
    return 0


def _sign_example(args: argparse.Namespace) -> int:
    if args.channel == "phone":
        token = args.secret or os.environ.get("INTAKE_TWILIO_AUTH_TOKEN")
        if not token:
            print("sign-example: set INTAKE_TWILIO_AUTH_TOKEN or pass --secret", file=sys.stderr)
            return 2
        print(examples.phone_curl(token, args.base_url, digits=args.digits, call_sid=args.call_sid))
    else:
        secret = args.secret or os.environ.get("INTAKE_LINE_CHANNEL_SECRET")
        if not secret:
            print("sign-example: set INTAKE_LINE_CHANNEL_SECRET or pass --secret", file=sys.stderr)
            return 2
        print(examples.line_curl(secret, args.base_url, text=args.text, topic=args.topic))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intake", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the HTTP API, consumer and workers (the default)")
    rotate = commands.add_parser(
        "rotate-keys", help="re-encrypt all personal data with the first key of INTAKE_ENCRYPTION_KEYS"
    )
    rotate.add_argument("--batch-size", type=int, default=200)
    commands.add_parser("purge", help="remove personal data older than INTAKE_RETENTION_DAYS now")
    sign = commands.add_parser("sign-example", help="print a signed example webhook request as curl")
    sign.add_argument("channel", choices=["phone", "line"])
    sign.add_argument(
        "--base-url", default=os.environ.get("INTAKE_PUBLIC_BASE_URL") or "http://127.0.0.1:8101"
    )
    sign.add_argument("--secret", help="default: INTAKE_TWILIO_AUTH_TOKEN or INTAKE_LINE_CHANNEL_SECRET")
    sign.add_argument("--digits", help="phone: the caller's choice (omit for the incoming call)")
    sign.add_argument("--call-sid", help="phone: the call to continue")
    sign.add_argument("--text", help="line: the user's message")
    sign.add_argument("--topic", help="line: a quick-reply topic click instead of a message")
    args = parser.parse_args(argv)

    if args.command in (None, "serve"):
        return _serve()
    if args.command == "sign-example":
        return _sign_example(args)
    storage = load_settings(StorageSettings)  # type: ignore[type-var]
    if args.command == "rotate-keys":
        return asyncio.run(_rotate(storage, args.batch_size))
    return asyncio.run(_purge(storage))


if __name__ == "__main__":
    sys.exit(main())
