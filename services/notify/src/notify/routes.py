"""notify's HTTP edge: request → service call → response model."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from eventkit.errors import ERROR_RESPONSES
from notify import repository, service
from notify.deps import Keys, Links, NotifySettings, Operator, OperatorOrPartner, Partner, Pool
from notify.domain import AlertState, DeliveryStatus, in_japan_time, municipality_name, webhook_body

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


class WebhookSecretOut(BaseModel):
    organisation_id: uuid.UUID
    secret: str = Field(description="Shown this once; notify keeps it only encrypted.")
    created_at: datetime
    rotated: bool = Field(description="True if it replaced a secret, which signs on for a grace period.")
    signature_tolerance_s: int = Field(description="Reject a Tsunagu-Timestamp further than this from now.")


class AttemptOut(BaseModel):
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
    def of(cls, d: repository.Delivery, *, public_base_url: str) -> "DeliveryOut":
        return cls(
            delivery_id=d.delivery_id,
            referral_id=d.referral_id,
            case_id=d.case_id,
            organisation_id=d.organisation_id,
            attempt=d.attempt,
            channel=d.channel,
            status=DeliveryStatus(d.status),
            tries=d.tries,
            webhook_url=d.webhook_url,
            email_to=d.email_to,
            next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.PENDING else None,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            body=webhook_body(d.payload, public_base_url=public_base_url),
        )


class DeliveryDetailOut(DeliveryOut):
    attempts: list[AttemptOut]


@router.post(
    "/partners/{organisation_id}/webhook-secret",
    status_code=201,
    response_model=WebhookSecretOut,
    tags=["partners"],
    summary="Issue or rotate a partner's webhook signing secret",
    description=(
        "Generates a new `whsec_...` secret, stores it encrypted and returns it once. After a "
        "rotation the previous secret keeps signing beside the new one (one `v1=` value each in "
        "`Tsunagu-Signature`) for `NOTIFY_SECRET_ROTATION_GRACE_S` seconds."
    ),
)
async def issue_webhook_secret(
    organisation_id: uuid.UUID,
    principal: Operator,
    pool: Pool,
    keyring: Keys,
    settings: NotifySettings,
    response: Response,
) -> WebhookSecretOut:
    issued = await service.issue_webhook_secret(
        pool, keyring, organisation_id=organisation_id, grace_s=settings.secret_rotation_grace_s
    )
    response.headers["Cache-Control"] = "no-store"
    return WebhookSecretOut(
        organisation_id=issued.organisation_id,
        secret=issued.secret,
        created_at=issued.created_at,
        rotated=issued.rotated,
        signature_tolerance_s=settings.signature_tolerance_s,
    )


@router.get(
    "/deliveries",
    response_model=list[DeliveryOut],
    tags=["deliveries"],
    summary="List deliveries, newest first",
    description=(
        "Operators see every delivery. A partner sees its own organisation's only; filtering on "
        "another organisation_id returns an empty list."
    ),
)
async def list_deliveries(
    principal: OperatorOrPartner,
    pool: Pool,
    settings: NotifySettings,
    referral_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    found = await service.list_deliveries(
        pool,
        principal=principal,
        referral_id=referral_id,
        organisation_id=organisation_id,
        status=status,
        limit=limit,
    )
    return [DeliveryOut.of(d, public_base_url=settings.public_base_url) for d in found]


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetailOut,
    tags=["deliveries"],
    summary="Read one delivery with every try",
    description="A partner reads only its own organisation's deliveries; others are 404.",
)
async def get_delivery(
    delivery_id: Annotated[str, Path(max_length=200)],
    principal: OperatorOrPartner,
    pool: Pool,
    settings: NotifySettings,
) -> DeliveryDetailOut:
    found, attempts = await service.get_delivery(pool, principal=principal, delivery_id=delivery_id)
    summary = DeliveryOut.of(found, public_base_url=settings.public_base_url)
    return DeliveryDetailOut(
        **summary.model_dump(),
        attempts=[AttemptOut(**vars(a)) for a in attempts],
    )


# ---- the partner portal ----------------------------------------------------------------------


class InboxItemOut(BaseModel):
    alert_key: str = Field(description="referral_id:organisation_id:attempt; the alert's dedup key.")
    referral_id: uuid.UUID
    case_id: uuid.UUID
    attempt: int
    topic: str
    municipality_code: str
    municipality_name: str | None = Field(
        description="The prefecture and the name, e.g. 東京都新宿区; null for a code the register lacks."
    )
    severity: str
    need_tags: list[str] = Field(description="What the person needs: IssueTag codes (may be empty).")
    age_band: str = Field(description="0-11, 12-17, 18-29, 30-64, 65+ or unknown.")
    language: str = Field(description="The person's language, ISO 639-1.")
    offered_at: datetime
    deadline_at: datetime
    deadline_at_jst: str = Field(
        description="The deadline in Japan time, to the minute, e.g. 2026-12-04T21:30+09:00."
    )
    overdue: bool = Field(description="Still offered and past its deadline (it is about to move on).")
    state: AlertState = Field(
        description="offered, acknowledged, declined, expired, reassigned (moved on) or withdrawn."
    )
    state_at: datetime
    channels: dict[str, str] = Field(description="Each push channel's delivery status.")
    actions: dict[str, str] = Field(
        description="While offered: where to acknowledge or decline with your partner token."
    )


@router.get(
    "/portal/inbox",
    response_model=list[InboxItemOut],
    tags=["portal"],
    summary="Your organisation's handoff alerts, newest first",
    description=(
        "Partners only: every attempt offered to your organisation, whatever channels it was sent on, "
        "with its deadline and what became of it; `referral_id` narrows it to one referral's attempts. "
        "Codes only; the person's details are released by intake after you acknowledge."
    ),
)
async def portal_inbox(
    principal: Partner,
    pool: Pool,
    links: Links,
    state: AlertState | None = None,
    referral_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[InboxItemOut]:
    alerts, statuses = await service.inbox(
        pool, principal=principal, state=state, referral_id=referral_id, limit=limit
    )
    now = datetime.now(UTC)
    return [
        InboxItemOut(
            alert_key=a.alert_key,
            referral_id=a.referral_id,
            case_id=a.case_id,
            attempt=a.attempt,
            topic=a.topic,
            municipality_code=a.municipality_code,
            municipality_name=municipality_name(a.municipality_code),
            severity=a.severity,
            need_tags=a.need_tags,
            age_band=a.age_band,
            language=a.language,
            offered_at=a.offered_at,
            deadline_at=a.deadline_at,
            deadline_at_jst=in_japan_time(a.deadline_at),
            overdue=a.state == AlertState.OFFERED and a.deadline_at < now,
            state=AlertState(a.state),
            state_at=a.state_at,
            channels=statuses.get((a.referral_id, a.attempt), {}),
            actions=links.referral_api(a.referral_id, a.attempt) if a.state == AlertState.OFFERED else {},
        )
        for a in alerts
    ]
