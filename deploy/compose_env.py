"""Prints a fresh deploy/.env for compose.yaml: signing keys, encryption keys, database passwords.

    python deploy/compose_env.py > deploy/.env

Which secrets there are, and how each is made, is declared once beside the services' settings
(deploy/local/tsunagu_stack/services.py SECRETS); the local stack keeps the same ones in
.stack/secrets.json. The private signing key goes to the web service only (it signs people in and
mints their tokens). The voice provider's and LINE's tokens are generated only so that the stack
starts: replace them with the providers' own before the channels go live.
"""

import importlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "local"))

from tsunagu_stack.secret_store import generate
from tsunagu_stack.services import SECRETS


def _call(module: str, func: str, *args: Any, **kwargs: Any) -> Any:
    return getattr(importlib.import_module(module), func)(*args, **kwargs)


def main() -> None:
    for spec in SECRETS:
        for name, value in zip(spec.names, generate(spec, _call), strict=True):
            print(f"{name}={value}")


if __name__ == "__main__":
    main()
