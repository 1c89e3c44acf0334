"""The partners' use cases: issue (or rotate) a webhook signing secret, and read the secrets a
webhook is signed with. Secrets are sealed with the keyring here and nowhere else."""

import logging
import uuid
from datetime import datetime

import asyncpg

from eventkit.crypto import DecryptionError, Keyring
from notify.deliveries.domain import Reason
from notify.partners import repository
from notify.partners.domain import IssuedSecret, new_webhook_secret

log = logging.getLogger(__name__)


async def issue_webhook_secret(
    pool: asyncpg.Pool, keyring: Keyring, *, organisation_id: uuid.UUID, grace_s: int
) -> IssuedSecret:
    """A new signing secret for the organisation, stored encrypted and returned this once."""
    secret = new_webhook_secret()
    sealed = keyring.encrypt(secret, context=str(organisation_id))
    async with pool.acquire() as conn:
        stored = await repository.store_partner_secret(
            conn, organisation_id=organisation_id, secret_enc=sealed, grace_s=grace_s
        )
    rotated = stored.rotated_at is not None
    log.info("webhook secret %s for organisation %s", "rotated" if rotated else "issued", organisation_id)
    return IssuedSecret(
        organisation_id=organisation_id,
        secret=secret,
        created_at=stored.rotated_at or stored.created_at,
        rotated=rotated,
    )


class SigningUnavailable(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


async def signing_secrets(
    pool: asyncpg.Pool, keyring: Keyring, *, organisation_id: uuid.UUID, now: datetime | None
) -> list[str]:
    """The secrets to sign with: the current one first, then the previous one during its grace."""
    async with pool.acquire() as conn:
        stored = await repository.get_partner_secrets(conn, organisation_id=organisation_id, now=now)
    if stored is None:
        raise SigningUnavailable(Reason.NO_SIGNING_SECRET)
    context = str(organisation_id)
    try:
        found = [keyring.decrypt(stored.secret_enc, context=context)]
        if stored.previous_secret_enc is not None:
            found.append(keyring.decrypt(stored.previous_secret_enc, context=context))
    except DecryptionError:
        # A key left the keyring too early: an operator must restore it or issue a new secret.
        log.error("the webhook secret of organisation %s cannot be decrypted", organisation_id)
        raise SigningUnavailable(Reason.SIGNING_SECRET_UNREADABLE) from None
    return found
