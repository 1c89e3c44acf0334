"""Generated secrets — database passwords, signing and encryption keys, channel tokens — and tokens.

Each secret is made on first use and kept in <state>/secrets.json (owner only) ever after: the
PostgreSQL cluster, the services' encrypted data and the partners' links all depend on them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any, Final

from tsunagu_stack.core import StackError
from tsunagu_stack.project import Project
from tsunagu_stack.services import SecretSpec, secret_spec
from tsunagu_stack.settings import db_password_secret
from tsunagu_stack.state import StateDir, write_atomic

TOKEN_TTL_HOURS: Final = 8


def generate(spec: SecretSpec, call: Callable[..., Any]) -> tuple[str, ...]:
    """New values for a declared secret, one per name; `call(module, func)` reaches eventkit."""
    if spec.kind == "keypair":
        private, public = call("eventkit.auth", "generate_signing_keypair")
        return str(private), str(public)
    if spec.kind == "keyring":
        return (str(call("eventkit.crypto", "generate_keyring_entry")),)
    return (secrets.token_urlsafe(24),)


class SecretStore:
    def __init__(self, state: StateDir, project: Project) -> None:
        self.state = state
        self.project = project

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state.secrets.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise StackError(f"{self.state.secrets} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise StackError(f"{self.state.secrets} should hold a JSON object")
        return data

    def known(self, section: str, key: str) -> bool:
        return key in self._load().get(section, {})

    def stored(self, section: str, key: str, make: Callable[[], Any]) -> Any:
        """One generated secret, created on first use and kept forever after."""
        value = self._load().get(section, {}).get(key)
        if value is not None:
            return value
        with self.state.lock():
            data = self._load()
            value = data.get(section, {}).get(key)
            if value is None:
                value = make()
                data.setdefault(section, {})[key] = value
                write_atomic(self.state.secrets, json.dumps(data, indent=2) + "\n", mode=0o600)
            return value

    def value(self, name: str) -> str:
        """A declared secret by its deploy/.env name (services.SECRETS)."""
        spec, part = secret_spec(name)

        def make() -> Any:
            made = generate(spec, self.project.call)
            # Key pairs are kept as one object, so their halves can never come from two pairs.
            return {"private_key": made[0], "public_key": made[1]} if spec.kind == "keypair" else made[0]

        kept = self.stored(*spec.stored, make)
        if spec.kind == "keypair":
            return str(kept["private_key" if part == 0 else "public_key"])
        return str(kept)

    def db_password(self, role: str) -> str:
        """The password of a service's role, or of the superuser ("superuser")."""
        return self.value("POSTGRES_PASSWORD" if role == "superuser" else db_password_secret(role))

    def channel(self, name: str) -> str:
        """What intake shares with the voice provider and LINE, by its key under "channels"."""
        value: str = self.stored("channels", name, lambda: secrets.token_urlsafe(24))
        return value

    def web_password(self, username: str) -> str:
        value: str = self.stored("web_users", username, lambda: secrets.token_urlsafe(12))
        return value

    def mint_token(self, role: str, subject: str, organisation_id: str | None = None) -> str:
        private = self.value("AUTH_SIGNING_KEY")
        try:
            token = self.project.call(
                "eventkit.auth",
                "mint_token",
                private,
                role=role,
                subject=subject,
                organisation_id=organisation_id,
                ttl_seconds=TOKEN_TTL_HOURS * 3600,
            )
        except ValueError as exc:
            raise StackError(f"cannot mint a {role} token: {exc}") from exc
        return str(token)
