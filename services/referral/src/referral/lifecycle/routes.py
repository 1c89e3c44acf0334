"""The lifecycle's HTTP edge: partners answer an offer and record outcomes, counsellors withdraw.
Request model → service call → response model; the rules and the errors are the lifecycle's."""

import uuid
from datetime import datetime
from typing import Annotated, Self

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.vocabulary import (
    DeclineReason,
    HandledElsewhereReason,
    LawfulBasis,
    OutcomeCode,
    OutcomeStage,
    Severity,
    Topic,
)
from eventkit.deps import Operator, Partner, Pool, Staff
from eventkit.routing import api_router
from eventkit.text import Text
from referral.deps import CurrentLifecycle
from referral.lifecycle import operator_service, service
from referral.lifecycle.states import AccompaniedTo, AttemptState, ReferralState, WithdrawReason

router = api_router(tags=["referrals"])

ReferralId = Annotated[uuid.UUID, Path(description="The referral id")]
AttemptNo = Annotated[int, Path(ge=1, le=100, description="The handoff attempt, as the alert names it")]


class ReferralSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    state: ReferralState
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis
    organisation_id: uuid.UUID | None = Field(description="The current attempt's organisation.")
    attempt: int
    deadline_at: datetime | None = Field(description="The open attempt's deadline, while one is open.")
    created_at: datetime
    updated_at: datetime
    reasons: list[str]
    reoffer_organisation_id: uuid.UUID | None = Field(
        default=None,
        description="The organisation an operator chose, while the directory confirms it can be alerted.",
    )


class AttemptResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    referral_id: uuid.UUID
    attempt: int
    organisation_id: uuid.UUID
    state: AttemptState
    at: datetime | None = Field(description="When it was acknowledged or declined.")
    repeated: bool = Field(description="True if this answered a repeat: nothing new was recorded.")


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: DeclineReason
    note: Text | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Why, in your words (needed for 'other'). Kept by referral only, never sent on.",
    )

    @model_validator(mode="after")
    def _other_needs_a_note(self) -> Self:
        if self.reason is DeclineReason.OTHER and not self.note:
            raise ValueError("a note is needed when the reason is 'other'")
        return self


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: OutcomeStage
    outcome: OutcomeCode | None = Field(default=None, description="Required when, and only when, closed.")
    accompanied_to: AccompaniedTo | None = Field(
        default=None, description="Required when, and only when, accompanied."
    )


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: WithdrawReason


@router.post("/referrals/{referral_id}/attempts/{attempt}/acknowledge", tags=["handoff"])
async def acknowledge(
    referral_id: ReferralId, attempt: AttemptNo, principal: Partner, pool: Pool, lifecycle: CurrentLifecycle
) -> AttemptResultOut:
    """Acknowledge (accept) a handoff offered to your organisation

    A partner token of the organisation the attempt was offered to. Acknowledging again is harmless (200,
    `repeated`). After the handoff moved on: 409 `reassigned`; after the counsellor withdrew it: 409
    `withdrawn`.
    """
    view = await service.acknowledge(
        pool, principal=principal, referral_id=referral_id, attempt=attempt, lifecycle=lifecycle
    )
    return AttemptResultOut.model_validate(view)


@router.post("/referrals/{referral_id}/attempts/{attempt}/decline", tags=["handoff"])
async def decline(
    referral_id: ReferralId,
    attempt: AttemptNo,
    body: DeclineIn,
    principal: Partner,
    pool: Pool,
    lifecycle: CurrentLifecycle,
) -> AttemptResultOut:
    """Decline a handoff offered to your organisation, with a reason

    The next ranked organisation is offered the case at once. Declining again is harmless; declining after
    acknowledging is 409 `illegal_transition`.
    """
    view = await service.decline(
        pool,
        principal=principal,
        referral_id=referral_id,
        attempt=attempt,
        reason=body.reason,
        note=body.note,
        lifecycle=lifecycle,
    )
    return AttemptResultOut.model_validate(view)


@router.post("/referrals/{referral_id}/outcome", tags=["handoff"])
async def record_outcome(
    referral_id: ReferralId, body: OutcomeIn, principal: Partner, pool: Pool, lifecycle: CurrentLifecycle
) -> ReferralSummaryOut:
    """Record 面談, 同行支援 or the closing outcome

    The accepting organisation only. acknowledged → contacted → accompanied (optional, may repeat) → closed;
    closing straight after acknowledging is allowed (e.g. could_not_reach). Anything else is 409
    `illegal_transition`.
    """
    referral = await service.record_outcome(
        pool,
        principal=principal,
        referral_id=referral_id,
        stage=body.stage,
        outcome=body.outcome,
        accompanied_to=body.accompanied_to,
        lifecycle=lifecycle,
    )
    return ReferralSummaryOut.model_validate(referral)


@router.post("/referrals/{referral_id}/withdraw", tags=["handoff"])
async def withdraw(
    referral_id: ReferralId, body: WithdrawIn, principal: Staff, pool: Pool, lifecycle: CurrentLifecycle
) -> ReferralSummaryOut:
    """Withdraw a referral (counsellor), with a reason code

    Ends any open offer. A closed or withdrawn referral cannot be withdrawn (409).
    """
    referral = await service.withdraw(
        pool, principal=principal, referral_id=referral_id, reason=body.reason, lifecycle=lifecycle
    )
    return ReferralSummaryOut.model_validate(referral)


class ReofferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID = Field(description="The organisation the operator chose.")


class HandledElsewhereIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: HandledElsewhereReason
    note: Text | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="How it was handled, in the operator's words; kept in referral's database only.",
    )


@router.post("/referrals/{referral_id}/reoffer", status_code=202, tags=["handoff"])
async def reoffer(
    referral_id: ReferralId, body: ReofferIn, principal: Operator, pool: Pool, lifecycle: CurrentLifecycle
) -> ReferralSummaryOut:
    """Offer an unmatched or exhausted referral to an organisation the operator chose

    Operators only. The directory confirms the organisation can be alerted (`referral.reoffer_matched.v1`),
    then the case is offered to it as the next attempt, with a deadline and the usual alert. 409
    `illegal_transition` unless unmatched or exhausted; 409 `already_offered` if the organisation was
    offered the case before.
    """
    referral = await operator_service.request_reoffer(
        pool,
        principal=principal,
        referral_id=referral_id,
        organisation_id=body.organisation_id,
        lifecycle=lifecycle,
    )
    return ReferralSummaryOut.model_validate(referral)


@router.post("/referrals/{referral_id}/handled-elsewhere", tags=["handoff"])
async def handled_elsewhere(
    referral_id: ReferralId,
    body: HandledElsewhereIn,
    principal: Operator,
    pool: Pool,
    lifecycle: CurrentLifecycle,
) -> ReferralSummaryOut:
    """Record that an unmatched or exhausted referral was handled another way

    Operators only; a reason code and an optional note (kept here only). Ends the handoff.
    """
    referral = await operator_service.handle_elsewhere(
        pool,
        principal=principal,
        referral_id=referral_id,
        reason=body.reason,
        note=body.note,
        lifecycle=lifecycle,
    )
    return ReferralSummaryOut.model_validate(referral)
