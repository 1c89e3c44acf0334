"""Prints a fresh deploy/.env for compose.yaml: signing keys, encryption keys, database passwords.

    python deploy/compose_env.py > deploy/.env

The private signing key goes to the web service only (it signs people in and mints their tokens).
"""

import secrets

from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry


def main() -> None:
    private, public = generate_signing_keypair()
    print(f"AUTH_SIGNING_KEY={private}")
    print(f"AUTH_PUBLIC_KEY={public}")
    print(f"INTAKE_ENCRYPTION_KEYS={generate_keyring_entry('k1')}")
    print(f"NOTIFY_ENCRYPTION_KEYS={generate_keyring_entry('k1')}")
    # Replace these three with the voice provider's auth token and the LINE channel's secret and
    # access token before the channels go live; generated ones only let the stack start.
    for name in ("TWILIO_AUTH_TOKEN", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN"):
        print(f"INTAKE_{name}={secrets.token_urlsafe(24)}")
    # notify signs acknowledgement links with the private half; referral verifies with the public one.
    link_private, link_public = generate_signing_keypair()
    print(f"LINK_SIGNING_KEY={link_private}")
    print(f"LINK_VERIFY_KEY={link_public}")
    print(f"POSTGRES_PASSWORD={secrets.token_urlsafe(24)}")
    for service in ("INTAKE", "REFERRAL", "DIRECTORY", "NOTIFY", "WEB"):
        print(f"{service}_DB_PASSWORD={secrets.token_urlsafe(24)}")


if __name__ == "__main__":
    main()
