"""The partner portal's HTTP edge: the organisation's inbox of alerts. What is overdue and what may
still be answered is the service's and the domain's to decide; this only shapes the answer."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from eventkit.deps import Partner, Pool
from eventkit.routing import api_router
from notify.alerts import service
from notify.alerts.domain import AlertState, InboxItem
from notify.deps import Links

router = api_router()


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
        description=(
            "offered, acknowledged, declined, expired, reassigned (moved on) or withdrawn; after "
            "acceptance the handoff's step: contacted (面談), accompanied (同行支援) or closed."
        )
    )
    state_at: datetime
    accompanied_to: str | None = Field(
        description="After 同行支援: where to (hospital, police, welfare_office, other)."
    )
    outcome: str | None = Field(description="Once closed: the outcome code.")
    channels: dict[str, str] = Field(description="Each push channel's delivery status.")
    actions: dict[str, str] = Field(
        description="While offered: where to acknowledge or decline with your partner token."
    )

    @classmethod
    def of(cls, item: InboxItem) -> "InboxItemOut":
        # The stored alert's fields, with what the inbox adds to them (its `channels` are the
        # channels' statuses, not the list of channels the alert was sent on).
        return cls.model_validate(
            vars(item.alert)
            | {
                "municipality_name": item.municipality_name,
                "deadline_at_jst": item.deadline_at_jst,
                "overdue": item.overdue,
                "channels": dict(item.channels),
                "actions": dict(item.actions),
            }
        )


@router.get("/portal/inbox", tags=["portal"])
async def portal_inbox(
    principal: Partner,
    pool: Pool,
    links: Links,
    state: AlertState | None = None,
    referral_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[InboxItemOut]:
    """Your organisation's handoff alerts, newest first

    Partners only: every attempt offered to your organisation, whatever channels it was sent on, with its
    deadline and what became of it; `referral_id` narrows it to one referral's attempts. Codes only; the
    person's details are released by intake after you acknowledge.
    """
    items = await service.inbox(
        pool, principal=principal, state=state, referral_id=referral_id, limit=limit, links=links
    )
    return [InboxItemOut.of(item) for item in items]
