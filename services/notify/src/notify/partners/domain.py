"""Partners' webhook signing secrets: how one is made, and what is stored of it. Pure: no I/O.

A secret is shown to the operator once and kept only encrypted; after a rotation the previous one
keeps signing beside it for a grace period, so that a partner can switch without losing an alert.
"""

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime


def new_webhook_secret() -> str:
    """`whsec_` and 32 random bytes in base64, as Standard Webhooks has it: shown to the operator
    once, then only encrypted."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class StoredSecrets:
    secret_enc: str
    previous_secret_enc: str | None  # only while its grace period lasts
    created_at: datetime
    rotated_at: datetime | None


@dataclass(frozen=True)
class IssuedSecret:
    organisation_id: uuid.UUID
    secret: str
    created_at: datetime
    rotated: bool
