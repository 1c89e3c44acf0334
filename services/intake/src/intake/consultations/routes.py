"""consultations' HTTP edge: request model → service call → response model."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Header, Query, Response

from eventkit.created import answer_created
from eventkit.deps import Counsellor, Pool
from eventkit.routing import api_router
from intake.consultations import revisions, service
from intake.consultations.schemas import (
    ConsultationIn,
    ConsultationOut,
    ConsultationPatch,
    RevisionOut,
    SeverityHistoryOut,
)
from intake.deps import Now, Seal
from intake.risk.schemas import DecisionOut

router = api_router(tags=["consultations"])


@router.post("/consultations", status_code=201)
async def record_consultation(
    body: ConsultationIn,
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    now: Now,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=200, description="Makes retries safe.")
    ] = None,
) -> ConsultationOut:
    """Record a consultation

    Stores the consultation (summary and contact encrypted) and announces it as `consultation.recorded.v2`
    without personal data. With `risk`, the severity is computed by the current rule version; with
    `call_leg_id`, it completes that phone call. A retry with the same `Idempotency-Key` returns the first
    result with status 200.
    """
    view, created = await service.record_consultation(
        pool, sealer, principal=principal, new=body.to_domain(), idempotency_key=idempotency_key, now=now
    )
    answer_created(response, created=created, location=f"/v1/consultations/{view.consultation.id}")
    return ConsultationOut.of(view)


@router.get("/consultations/{consultation_id}", summary="Read one of your consultations")
async def get_consultation(
    consultation_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal
) -> ConsultationOut:
    view = await service.get_consultation(pool, sealer, principal=principal, consultation_id=consultation_id)
    return ConsultationOut.of(view)


@router.patch("/consultations/{consultation_id}")
async def update_consultation(
    consultation_id: uuid.UUID,
    body: ConsultationPatch,
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    now: Now,
) -> ConsultationOut:
    """Change one of your consultations (kept as a revision)

    Raising the severity is free; lowering it needs `severity_reason`. When the topic, area, severity, basis
    or needs change, `consultation.recorded.v2` is announced again.
    """
    view = await revisions.update_consultation(
        pool, sealer, principal=principal, consultation_id=consultation_id, changes=body.to_domain(), now=now
    )
    return ConsultationOut.of(view)


@router.post(
    "/consultations/{consultation_id}/close",
    summary="Close one of your consultations (its retention period starts)",
)
async def close_consultation(
    consultation_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal, now: Now
) -> ConsultationOut:
    view = await service.close_consultation(
        pool, sealer, principal=principal, consultation_id=consultation_id, now=now
    )
    return ConsultationOut.of(view)


@router.get("/consultations", summary="List the consultations you recorded, newest first")
async def list_consultations(
    principal: Counsellor,
    pool: Pool,
    sealer: Seal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[datetime | None, Query(description="Page: recorded before this time")] = None,
) -> list[ConsultationOut]:
    found = await service.list_own_consultations(
        pool, sealer, principal=principal, limit=limit, before=before
    )
    return [ConsultationOut.of(view) for view in found]


@router.get("/consultations/{consultation_id}/revisions", summary="The history of one of your consultations")
async def list_revisions(
    consultation_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal
) -> list[RevisionOut]:
    found = await revisions.list_revisions(pool, sealer, principal=principal, consultation_id=consultation_id)
    return [RevisionOut.model_validate(r) for r in found]


@router.get("/consultations/{consultation_id}/severity")
async def severity_history(
    consultation_id: uuid.UUID, principal: Counsellor, pool: Pool, sealer: Seal
) -> SeverityHistoryOut:
    """Every severity decision of one of your consultations, explained

    Each decision is re-derived from its stored answers under its stored rule version.
    """
    consultation, decisions = await service.severity_history(
        pool, sealer, principal=principal, consultation_id=consultation_id
    )
    return SeverityHistoryOut(
        case_id=consultation.id,
        severity=consultation.severity,
        decisions=[DecisionOut.model_validate(d) for d in decisions],
    )
