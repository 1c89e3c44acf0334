"""The partners' HTTP edge: an operator issues, or rotates, an organisation's webhook secret."""

import uuid
from datetime import datetime

from fastapi import Response
from pydantic import BaseModel, Field

from eventkit.deps import Operator, Pool
from eventkit.routing import api_router
from notify.deps import Keys, NotifySettings
from notify.partners import service

router = api_router()


class WebhookSecretOut(BaseModel):
    organisation_id: uuid.UUID
    secret: str = Field(description="Shown this once; notify keeps it only encrypted.")
    created_at: datetime
    rotated: bool = Field(description="True if it replaced a secret, which signs on for a grace period.")
    signature_tolerance_s: int = Field(description="Reject a Tsunagu-Timestamp further than this from now.")


@router.post("/partners/{organisation_id}/webhook-secret", status_code=201, tags=["partners"])
async def issue_webhook_secret(
    organisation_id: uuid.UUID,
    principal: Operator,
    pool: Pool,
    keyring: Keys,
    settings: NotifySettings,
    response: Response,
) -> WebhookSecretOut:
    """Issue or rotate a partner's webhook signing secret

    Generates a new `whsec_...` secret, stores it encrypted and returns it once. After a rotation the
    previous secret keeps signing beside the new one (one `v1=` value each in `Tsunagu-Signature`) for
    `NOTIFY_SECRET_ROTATION_GRACE_S` seconds.
    """
    issued = await service.issue_webhook_secret(
        pool, keyring, organisation_id=organisation_id, grace_s=settings.secret_rotation_grace_s
    )
    response.headers["Cache-Control"] = "no-store"
    return WebhookSecretOut.model_validate(
        vars(issued) | {"signature_tolerance_s": settings.signature_tolerance_s}
    )
