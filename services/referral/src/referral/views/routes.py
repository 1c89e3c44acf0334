"""Reading referrals over HTTP: one referral with its timeline, a case's referrals, work lists.
What each reader may see is the service's to decide; these only shape the answer."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from contracts.vocabulary import DeclineReason
from eventkit.deps import AnyRole, Operator, Pool, Staff
from eventkit.routing import api_router
from referral.deps import CurrentLifecycle
from referral.lifecycle.domain import Attempt, TimelineEntry
from referral.lifecycle.routes import ReferralId, ReferralSummaryOut
from referral.lifecycle.states import Action, AttemptState, Milestone, ReferralState
from referral.views import service
from referral.views.domain import ReferralRecord

router = api_router(tags=["referrals"])


class TimelineEntryOut(BaseModel):
    state: Milestone = Field(description="The state, or the step, this entry records.")
    at: datetime
    actor: str = Field(description="The service, or the subject of the person, that did it.")
    trace_id: str | None
    attempt: int | None
    organisation_id: uuid.UUID | None
    detail: dict[str, Any] = Field(description="Ids and codes only (reason, cause, channel, outcome).")

    @classmethod
    def of(cls, entry: TimelineEntry) -> "TimelineEntryOut":
        # The stored entry calls its state a milestone: it may be a step between states.
        return cls.model_validate(vars(entry) | {"state": entry.milestone, "detail": dict(entry.detail)})


class AttemptOut(BaseModel):
    attempt: int
    organisation_id: uuid.UUID
    state: AttemptState
    offered_at: datetime
    deadline_at: datetime
    ended_at: datetime | None
    decline_reason: DeclineReason | None
    via: str | None

    @classmethod
    def of(cls, attempt: Attempt) -> "AttemptOut":
        return cls.model_validate(vars(attempt) | {"attempt": attempt.number})


class ReferralOut(ReferralSummaryOut):
    attempts: list[AttemptOut]
    timeline: list[TimelineEntryOut]
    actions: list[Action] = Field(
        description=(
            "The steps you may take on it now, from the lifecycle's table and your part: staff "
            "`withdrawn`; the offered partner `acknowledged`, `declined`; the accepting partner "
            "`contacted`, `accompanied`, `closed`. Screens offer these and nothing else."
        )
    )

    @classmethod
    def of(cls, record: ReferralRecord) -> "ReferralOut":
        summary = ReferralSummaryOut.model_validate(record.referral)
        return cls(
            **dict(summary),
            attempts=[AttemptOut.of(a) for a in record.referral.attempts],
            timeline=[TimelineEntryOut.of(e) for e in record.timeline],
            actions=list(record.actions),
        )


class TimelineOut(BaseModel):
    referral_id: uuid.UUID
    case_id: uuid.UUID
    state: ReferralState
    timeline: list[TimelineEntryOut]

    @classmethod
    def of(cls, record: ReferralRecord) -> "TimelineOut":
        referral = record.referral
        return cls(
            referral_id=referral.id,
            case_id=referral.case_id,
            state=referral.state,
            timeline=[TimelineEntryOut.of(e) for e in record.timeline],
        )


# Declared before /referrals/{referral_id}: "overdue" is not a referral id.
@router.get("/referrals/overdue")
async def list_overdue(
    principal: Operator,
    pool: Pool,
    lifecycle: CurrentLifecycle,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReferralSummaryOut]:
    """Referrals whose open offer is past its deadline

    Operators only. Oldest deadline first; normally the scheduler moves them on within seconds.
    """
    found = await service.overdue(pool, lifecycle=lifecycle, limit=limit)
    return [ReferralSummaryOut.model_validate(r) for r in found]


@router.get("/referrals/{referral_id}")
async def get_referral(referral_id: ReferralId, principal: AnyRole, pool: Pool) -> ReferralOut:
    """Read a referral, its attempts and its timeline

    Counsellors and operators read any referral; a partner reads only a referral currently offered to, or
    accepted by, its own organisation (others answer 404), with its own entries.
    """
    record = await service.get_referral(pool, principal=principal, referral_id=referral_id)
    return ReferralOut.of(record)


@router.get("/referrals/{referral_id}/timeline")
async def get_timeline(referral_id: ReferralId, principal: AnyRole, pool: Pool) -> TimelineOut:
    """A referral's timeline: every state with time, actor and trace id

    Counsellors and operators see everything. A partner sees the entries of its own attempts (also after the
    handoff moved on); a referral it was never offered answers 404.
    """
    record = await service.timeline(pool, principal=principal, referral_id=referral_id)
    return TimelineOut.of(record)


@router.get("/referrals")
async def list_referrals(
    principal: Staff,
    pool: Pool,
    case_id: Annotated[
        list[uuid.UUID] | None, Query(max_length=50, description="The case (consultation) id")
    ] = None,
    state: Annotated[ReferralState | None, Query(description="Only referrals in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReferralSummaryOut]:
    """Find referrals by case, or list those in a state

    `case_id` (repeatable, up to 50): the cases' referrals (counsellors and operators), an empty list if
    they have none. `state` alone: an operator's work list, longest in that state first.
    """
    found = await service.list_referrals(
        pool, principal=principal, case_ids=case_id or (), state=state, limit=limit
    )
    return [ReferralSummaryOut.model_validate(r) for r in found]
