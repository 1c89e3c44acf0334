"""Matching's HTTP edge: the dry run. Needs in → the ranking → candidates and exclusions out."""

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.hours import JST, HoursBasis
from contracts.municipality import CurrentMunicipalityCode
from contracts.vocabulary import AgeBand, Gender, IssueTag, Severity, Topic
from directory.deps import Ctx
from directory.fields import LanguageCode
from directory.matching import service
from directory.matching.domain import Candidate, Exclusion, MatchResult, ReferralNeeds
from directory.register.domain import Channel, OrgType
from eventkit.build import from_attributes
from eventkit.deps import Pool, Staff
from eventkit.routing import api_router

router = api_router(tags=["matching"])


class MatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    municipality_code: CurrentMunicipalityCode
    severity: Severity
    need_tags: list[IssueTag] = Field(default_factory=list, max_length=len(IssueTag))
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    language: LanguageCode = "ja"
    at: AwareDatetime | None = Field(default=None, description="Match as of this time (default: now).")

    def to_domain(self) -> ReferralNeeds:
        return from_attributes(ReferralNeeds, self, need_tags=tuple(dict.fromkeys(self.need_tags)))


class CandidateOut(BaseModel):
    rank: int
    tier: str = Field(description="municipality | city | prefecture | national")
    organisation_id: uuid.UUID
    service_id: uuid.UUID
    name: str
    org_type: OrgType
    reasons: list[str]
    open_now: bool | None = Field(description="null: its hours are unknown (none published).")
    next_opening: datetime | None = Field(description="Japan time, when closed now.")
    hours_basis: HoursBasis = Field(
        description="published | round_the_clock | public_office_default | unknown"
    )
    channels: list[Channel]

    @classmethod
    def of(cls, c: Candidate) -> "CandidateOut":
        return cls(
            rank=c.rank,
            tier=c.tier.value,
            organisation_id=c.organisation.id,
            service_id=c.service.id,
            name=c.organisation.name,
            org_type=c.organisation.org_type,
            reasons=list(c.reasons),
            open_now=c.open_state.open_now,
            next_opening=c.open_state.next_opening,
            hours_basis=c.open_state.basis,
            channels=list(c.organisation.alert_channels),
        )


class ExcludedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    organisation_id: uuid.UUID
    service_id: uuid.UUID | None
    reason: Exclusion = Field(
        description="inactive | unreachable | out_of_area | topic_not_handled | not_eligible | "
        "no_capacity | closed"
    )
    detail: str | None = Field(
        description="e.g. age, gender, language, webhook, 0/5, until 2026-01-05T08:30+09:00"
    )


class MatchOut(BaseModel):
    topic: Topic
    municipality_code: str
    severity: Severity
    at: datetime
    chosen_organisation_id: uuid.UUID | None = Field(description="Rank 1, or null if none can take it.")
    fallback: bool = Field(description="Only national organisations fit: operators are alerted.")
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
            at=result.at.astimezone(JST),
            chosen_organisation_id=chosen.organisation.id if chosen else None,
            fallback=result.fallback,
            eligible_count=result.eligible_count,
            candidates=[CandidateOut.of(c) for c in result.candidates],
            excluded=[ExcludedOut.model_validate(e) for e in result.excluded],
            unmatched_reasons=[] if chosen else list(result.unmatched_reasons()),
        )


@router.post("/match")
async def dry_run_match(body: MatchIn, _: Staff, pool: Pool, context: Ctx) -> MatchOut:
    """Dry run: whom would a referral with these needs go to?

    The ranked candidates and every excluded organisation with its reason. Nothing is stored.
    """
    result = await service.dry_run(pool, context=context, needs=body.to_domain(), at=body.at)
    return MatchOut.of(result)
