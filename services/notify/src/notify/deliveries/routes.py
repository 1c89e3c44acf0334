"""The deliveries' HTTP edge: list deliveries and read one with every try. Which a partner may see
is the service's to decide."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from eventkit.deps import OperatorOrPartner, Pool
from eventkit.routing import api_router
from eventkit.text import Line
from notify.deliveries import service
from notify.deliveries.domain import Delivery, DeliveryStatus
from notify.deps import NotifySettings
from notify.webhook import webhook_body

router = api_router()


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    try_no: int
    at: datetime
    http_status: int | None
    error: str | None = Field(description="Machine-readable: http_503, timeout, connect_error, ...")
    duration_ms: int


class DeliveryOut(BaseModel):
    delivery_id: str = Field(description="referral_id:organisation_id:attempt; the Tsunagu-Delivery-Id.")
    referral_id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    attempt: int
    channel: str = Field(description="webhook | email")
    status: DeliveryStatus
    tries: int
    webhook_url: str | None
    email_to: str | None
    next_attempt_at: datetime | None = Field(description="When the next try is due, while pending.")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    body: dict[str, Any] = Field(
        description="The alert's body as a webhook carries it, without the acknowledgement link."
    )

    @classmethod
    def of(cls, delivery: Delivery, *, public_base_url: str) -> "DeliveryOut":
        # The stored delivery's fields, the next try only while one is due, and the body without
        # the acknowledgement link (webhook_body leaves it out unless it is given one).
        return cls.model_validate(
            vars(delivery)
            | {
                "next_attempt_at": delivery.next_try_at,
                "body": webhook_body(delivery.payload, public_base_url=public_base_url),
            }
        )


class DeliveryDetailOut(DeliveryOut):
    attempts: list[AttemptOut]


@router.get("/deliveries", tags=["deliveries"])
async def list_deliveries(
    principal: OperatorOrPartner,
    pool: Pool,
    settings: NotifySettings,
    referral_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """List deliveries, newest first

    Operators see every delivery. A partner sees its own organisation's only; filtering on another
    organisation_id returns an empty list.
    """
    found = await service.list_deliveries(
        pool,
        principal=principal,
        referral_id=referral_id,
        organisation_id=organisation_id,
        status=status,
        limit=limit,
    )
    return [DeliveryOut.of(d, public_base_url=settings.public_base_url) for d in found]


@router.get("/deliveries/{delivery_id}", tags=["deliveries"])
async def get_delivery(
    delivery_id: Annotated[Line, Path(max_length=200)],
    principal: OperatorOrPartner,
    pool: Pool,
    settings: NotifySettings,
) -> DeliveryDetailOut:
    """Read one delivery with every try

    A partner reads only its own organisation's deliveries; others are 404.
    """
    found, tries = await service.get_delivery(pool, principal=principal, delivery_id=delivery_id)
    summary = DeliveryOut.of(found, public_base_url=settings.public_base_url)
    return DeliveryDetailOut(**dict(summary), attempts=[AttemptOut.model_validate(t) for t in tries])
