"""Prints a fresh deploy/.env for compose.yaml: signing keys, encryption keys, database passwords.

    python deploy/compose_env.py > deploy/.env

The private signing key is printed as a comment: keep it where tokens are minted, not on servers.
"""

import secrets

from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry


def main() -> None:
    private, public = generate_signing_keypair()
    print(f"# AUTH_SIGNING_KEY={private}  (mint tokens with eventkit.auth.mint_token; not for servers)")
    print(f"AUTH_PUBLIC_KEY={public}")
    print(f"INTAKE_ENCRYPTION_KEYS={generate_keyring_entry('k1')}")
    print(f"NOTIFY_ENCRYPTION_KEYS={generate_keyring_entry('k1')}")
    print(f"POSTGRES_PASSWORD={secrets.token_urlsafe(24)}")
    for service in ("INTAKE", "REFERRAL", "DIRECTORY", "NOTIFY"):
        print(f"{service}_DB_PASSWORD={secrets.token_urlsafe(24)}")


if __name__ == "__main__":
    main()
