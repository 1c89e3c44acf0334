"""referral's HTTP edge: request parameters → service call → response model."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from contracts.vocabulary import LawfulBasis, Severity, Topic
from eventkit.errors import ERROR_RESPONSES
from referral import service
from referral.deps import AnyRole, CounsellorOrOperator, Pool
from referral.domain import Referral, ReferralState, TimelineEntry

router = APIRouter(prefix="/v1", tags=["referrals"], responses=ERROR_RESPONSES)


class TimelineEntryOut(BaseModel):
    state: ReferralState
    at: datetime
    actor: str
    trace_id: str | None

    @classmethod
    def of(cls, entry: TimelineEntry) -> "TimelineEntryOut":
        return cls(state=entry.state, at=entry.at, actor=entry.actor, trace_id=entry.trace_id)


class ReferralSummaryOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    state: ReferralState
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis
    organisation_id: uuid.UUID | None
    attempt: int
    created_at: datetime
    updated_at: datetime
    reasons: list[str]

    @classmethod
    def fields_of(cls, r: Referral) -> dict[str, object]:
        return {
            "id": r.id,
            "case_id": r.case_id,
            "state": r.state,
            "topic": r.topic,
            "municipality_code": r.municipality_code,
            "severity": r.severity,
            "lawful_basis": r.lawful_basis,
            "organisation_id": r.organisation_id,
            "attempt": r.attempt,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "reasons": list(r.reasons),
        }

    @classmethod
    def of(cls, r: Referral) -> "ReferralSummaryOut":
        return cls.model_validate(cls.fields_of(r))


class ReferralOut(ReferralSummaryOut):
    timeline: list[TimelineEntryOut]

    @classmethod
    def with_timeline(cls, r: Referral, entries: list[TimelineEntry]) -> "ReferralOut":
        return cls.model_validate(cls.fields_of(r) | {"timeline": [TimelineEntryOut.of(e) for e in entries]})


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralOut,
    summary="Read a referral and its timeline",
    description=(
        "Counsellors and operators read any referral; a partner reads only referrals handed to its "
        "own organisation (others answer 404)."
    ),
)
async def get_referral(referral_id: uuid.UUID, principal: AnyRole, pool: Pool) -> ReferralOut:
    referral, entries = await service.get_referral(pool, principal=principal, referral_id=referral_id)
    return ReferralOut.with_timeline(referral, entries)


@router.get(
    "/referrals",
    response_model=list[ReferralSummaryOut],
    summary="Find referrals by case, or list those in a state",
    description=(
        "`case_id`: the case's referrals (counsellors and operators), an empty list if it has none. "
        "`state` alone: an operator's work list, longest in that state first."
    ),
)
async def list_referrals(
    principal: CounsellorOrOperator,
    pool: Pool,
    case_id: Annotated[uuid.UUID | None, Query(description="The case (consultation) id")] = None,
    state: Annotated[ReferralState | None, Query(description="Only referrals in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReferralSummaryOut]:
    found = await service.list_referrals(pool, principal=principal, case_id=case_id, state=state, limit=limit)
    return [ReferralSummaryOut.of(r) for r in found]
