"""disclosure's HTTP edge: the minimum disclosure to the accepting partner, and the provision records."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from contracts.vocabulary import AgeBand, IssueTag, LawfulBasis, Severity, Topic
from eventkit.deps import Operator, OperatorOrPartner, Partner, Pool, Staff
from eventkit.routing import api_router
from intake.consent.domain import ConsentItem
from intake.consultations.schemas import ContactOut
from intake.deps import Now, Seal
from intake.disclosure import service
from intake.risk.answers import RiskAssessment

router = api_router(tags=["consultations", "disclosure"])


class DisclosureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: uuid.UUID
    organisation_id: uuid.UUID
    lawful_basis: LawfulBasis | None
    items: list[ConsentItem] = Field(description="What consent (or the legal basis) lets you receive")
    withheld: list[ConsentItem]
    contact: ContactOut | None
    summary: str | None
    risk: RiskAssessment | None
    municipality_code: str
    severity: Severity
    topic: Topic
    need_tags: list[IssueTag]
    age_band: AgeBand
    language: str
    provision_id: uuid.UUID | None = Field(description="The provision record of this release")
    released_at: datetime | None
    notice: str


@router.get("/cases/{case_id}/disclosure")
async def disclose(
    case_id: uuid.UUID,
    principal: Partner,
    pool: Pool,
    sealer: Seal,
    now: Now,
    items: Annotated[list[ConsentItem] | None, Query(description="Ask for less than allowed")] = None,
) -> DisclosureOut:
    """As the accepting partner, receive the case's contact details and summary

    Only the organisation that acknowledged the handoff, and only what the person consented to (or what the
    legal basis allows). Every release is recorded as a third-party provision record. Other organisations
    get 404.
    """
    released = await service.disclose(
        pool,
        sealer,
        principal=principal,
        case_id=case_id,
        wanted=frozenset(items) if items else None,
        now=now,
    )
    return DisclosureOut.model_validate(released)


class ProvisionRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    referral_id: uuid.UUID | None
    items: list[str]
    lawful_basis: str
    consent_id: uuid.UUID | None
    provenance: str
    released_by: str
    released_at: datetime
    row_hash: str


@router.get("/cases/{case_id}/disclosures", summary="The provision records of a case")
async def case_disclosures(case_id: uuid.UUID, principal: Staff, pool: Pool) -> list[ProvisionRecordOut]:
    found = await service.list_disclosures(pool, principal=principal, case_id=case_id)
    return [ProvisionRecordOut.model_validate(r) for r in found]


@router.get(
    "/partners/{organisation_id}/disclosures",
    summary="The provision records to an organisation (a partner sees only its own)",
)
async def partner_disclosures(
    organisation_id: uuid.UUID, principal: OperatorOrPartner, pool: Pool
) -> list[ProvisionRecordOut]:
    found = await service.list_disclosures(pool, principal=principal, organisation_id=organisation_id)
    return [ProvisionRecordOut.model_validate(r) for r in found]


class ChainOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    records: int
    intact: bool
    first_broken: int | None


@router.get("/disclosures/integrity", summary="Check the provision records' hash chain")
async def disclosure_integrity(principal: Operator, pool: Pool) -> ChainOut:
    return ChainOut.model_validate(await service.verify_disclosure_chain(pool))
