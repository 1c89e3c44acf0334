"""AES-GCM encryption of personal data at rest, under a keyring from the environment.

Each ciphertext names its key id, so keys can rotate: new values use the first key of the ring,
old ones stay readable while their key is still listed, and a rotation re-encrypts them.
The associated data binds a ciphertext to its row and field, so it cannot be moved elsewhere.
"""

import base64
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_FORMAT = "v1"


class DecryptionError(Exception):
    pass


def generate_keyring_entry(key_id: str = "k1") -> str:
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode('ascii')}"


class Keyring:
    """Parsed from 'k2:<base64 32 bytes>,k1:<...>'; the first key encrypts, all keys decrypt."""

    def __init__(self, spec: str) -> None:
        keys: dict[str, AESGCM] = {}
        order: list[str] = []
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            key_id, sep, encoded = part.partition(":")
            if not sep or not key_id.isalnum():
                raise ValueError("keyring entries look like 'k1:<base64 of 32 bytes>'")
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            if len(raw) != 32:
                raise ValueError(f"key {key_id} must be 32 bytes (AES-256)")
            keys[key_id] = AESGCM(raw)
            order.append(key_id)
        if not order:
            raise ValueError("the keyring is empty")
        self._keys = keys
        self.active_key_id = order[0]

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.active_key_id].encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        blob = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{_FORMAT}.{self.active_key_id}.{blob}"

    def decrypt(self, token: str, *, context: str) -> str:
        try:
            version, key_id, blob = token.split(".", 2)
        except ValueError:
            raise DecryptionError("not a ciphertext of this keyring") from None
        if version != _FORMAT or key_id not in self._keys:
            raise DecryptionError(f"no key {key_id!r} in the keyring")
        raw = base64.urlsafe_b64decode(blob)
        try:
            plain = self._keys[key_id].decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError("ciphertext or context does not match") from None
        return plain.decode("utf-8")

    @staticmethod
    def key_id_of(token: str) -> str:
        return token.split(".", 2)[1]
