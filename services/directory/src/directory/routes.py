"""directory's HTTP edge: request model → service call → response model."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from contracts.municipality import MunicipalityCode
from contracts.vocabulary import Severity, Topic
from directory import service
from directory.deps import AnyRole, Operator, Pool, Staff
from directory.domain import (
    MatchResult,
    Organisation,
    OrganisationRecord,
    OrgType,
    ReferralNeeds,
    validate_coverage_entry,
)
from eventkit.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

CoverageEntry = Annotated[
    str,
    Field(
        description="6-digit municipality code, 2-digit prefecture code (01–47) or 'JP' (national)",
        examples=["131041", "13", "JP"],
    ),
    AfterValidator(validate_coverage_entry),
]
OrganisationName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# A shared organisational mailbox; deliberately loose (full address syntax is not our concern).
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: OrganisationName = Field(description="The organisation's public name.")
    org_type: OrgType
    coverage: list[CoverageEntry] = Field(
        min_length=1, max_length=500, description="Where it takes cases; duplicates are dropped."
    )
    topics: list[Topic] = Field(
        max_length=len(Topic), description="Topics it takes; an empty list means every topic."
    )
    webhook_url: HttpUrl | None = Field(default=None, description="Where notify delivers handoffs.")
    email: Email | None = None
    active: bool = Field(default=True, description="Inactive organisations are never matched.")

    def to_domain(self, organisation_id: uuid.UUID) -> Organisation:
        return Organisation(
            id=organisation_id,
            name=self.name,
            org_type=self.org_type,
            coverage=tuple(dict.fromkeys(self.coverage)),
            topics=tuple(dict.fromkeys(self.topics)),
            webhook_url=str(self.webhook_url) if self.webhook_url else None,
            email=self.email,
            active=self.active,
        )


class OrganisationOut(BaseModel):
    id: uuid.UUID
    name: str
    org_type: OrgType
    coverage: list[str]
    topics: list[Topic]
    webhook_url: str | None
    email: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, record: OrganisationRecord) -> "OrganisationOut":
        o = record.organisation
        return cls(
            id=o.id,
            name=o.name,
            org_type=o.org_type,
            coverage=list(o.coverage),
            topics=list(o.topics),
            webhook_url=o.webhook_url,
            email=o.email,
            active=o.active,
            created_at=record.created_at,
            updated_at=record.updated_at,
            updated_by=record.updated_by,
        )


class MatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    municipality_code: MunicipalityCode
    severity: Severity

    def to_domain(self) -> ReferralNeeds:
        return ReferralNeeds(
            topic=self.topic, municipality_code=self.municipality_code, severity=self.severity
        )


class CandidateOut(BaseModel):
    rank: int
    tier: str = Field(description="municipality | prefecture | national")
    organisation_id: uuid.UUID
    name: str
    org_type: OrgType
    reasons: list[str]


class ExcludedOut(BaseModel):
    organisation_id: uuid.UUID
    reason: str = Field(description="inactive | out_of_area | topic_not_handled")


class MatchOut(BaseModel):
    topic: Topic
    municipality_code: str
    severity: Severity
    chosen_organisation_id: uuid.UUID | None = Field(description="Rank 1, or null if none can take it.")
    eligible_count: int = Field(description="Eligible organisations; at most 10 are listed.")
    candidates: list[CandidateOut]
    excluded: list[ExcludedOut]
    unmatched_reasons: list[str] = Field(description="Why nobody was chosen; empty when matched.")

    @classmethod
    def of(cls, result: MatchResult) -> "MatchOut":
        needs = result.needs
        chosen = result.chosen
        return cls(
            topic=needs.topic,
            municipality_code=needs.municipality_code,
            severity=needs.severity,
            chosen_organisation_id=chosen.organisation.id if chosen else None,
            eligible_count=result.eligible_count,
            candidates=[
                CandidateOut(
                    rank=c.rank,
                    tier=c.tier.value,
                    organisation_id=c.organisation.id,
                    name=c.organisation.name,
                    org_type=c.organisation.org_type,
                    reasons=list(c.reasons),
                )
                for c in result.candidates
            ],
            excluded=[
                ExcludedOut(organisation_id=e.organisation_id, reason=e.reason) for e in result.excluded
            ],
            unmatched_reasons=[] if chosen else list(result.unmatched_reasons()),
        )


@router.put(
    "/organisations/{organisation_id}",
    status_code=201,
    response_model=OrganisationOut,
    tags=["organisations"],
    summary="Register or replace an organisation under a known id",
    description="201 when it was created, 200 when an existing one was replaced (every field).",
)
async def put_organisation(
    organisation_id: uuid.UUID, body: OrganisationIn, principal: Operator, pool: Pool, response: Response
) -> OrganisationOut:
    record, created = await service.put_organisation(
        pool, principal=principal, organisation=body.to_domain(organisation_id)
    )
    if not created:
        response.status_code = 200
    return OrganisationOut.of(record)


@router.post(
    "/organisations",
    status_code=201,
    response_model=OrganisationOut,
    tags=["organisations"],
    summary="Register an organisation under a new id",
)
async def create_organisation(
    body: OrganisationIn, principal: Operator, pool: Pool, response: Response
) -> OrganisationOut:
    record = await service.create_organisation(
        pool, principal=principal, organisation=body.to_domain(uuid.uuid4())
    )
    response.headers["Location"] = f"/v1/organisations/{record.organisation.id}"
    return OrganisationOut.of(record)


@router.get(
    "/organisations",
    response_model=list[OrganisationOut],
    tags=["organisations"],
    summary="List organisations by name",
)
async def list_organisations(
    _: Staff,
    pool: Pool,
    municipality_code: Annotated[
        MunicipalityCode | None,
        Query(description="Only those whose coverage reaches it (exactly, by prefecture, or JP)."),
    ] = None,
    topic: Annotated[Topic | None, Query(description="Only those that take this topic.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OrganisationOut]:
    found = await service.list_organisations(
        pool, municipality_code=municipality_code, topic=topic, active=active, limit=limit, offset=offset
    )
    return [OrganisationOut.of(record) for record in found]


@router.get(
    "/organisations/{organisation_id}",
    response_model=OrganisationOut,
    tags=["organisations"],
    summary="Read one organisation (a partner: only its own)",
)
async def get_organisation(organisation_id: uuid.UUID, principal: AnyRole, pool: Pool) -> OrganisationOut:
    record = await service.get_organisation(pool, principal=principal, organisation_id=organisation_id)
    return OrganisationOut.of(record)


@router.delete(
    "/organisations/{organisation_id}",
    status_code=204,
    tags=["organisations"],
    summary="Deactivate an organisation",
    description="Soft delete: it stays readable and keeps its past matches, but is never matched again.",
)
async def delete_organisation(organisation_id: uuid.UUID, principal: Operator, pool: Pool) -> Response:
    await service.deactivate_organisation(pool, principal=principal, organisation_id=organisation_id)
    return Response(status_code=204)


@router.post(
    "/match",
    response_model=MatchOut,
    tags=["matching"],
    summary="Dry run: whom would a referral with these needs go to?",
    description="The ranked candidates and every excluded organisation with its reason. Nothing is stored.",
)
async def dry_run_match(body: MatchIn, _: Staff, pool: Pool) -> MatchOut:
    result = await service.dry_run(pool, needs=body.to_domain())
    return MatchOut.of(result)
