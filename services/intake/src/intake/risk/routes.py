"""risk's HTTP edge: the dry run of the severity rules."""

from pydantic import BaseModel, ConfigDict, Field

from contracts.vocabulary import AgeBand, IssueTag, Severity, Topic
from eventkit.deps import Staff
from eventkit.routing import api_router
from intake.risk import service
from intake.risk.answers import RiskAssessment
from intake.risk.schemas import CriterionOut

router = api_router(tags=["consultations"])


class SeverityComputeIn(BaseModel):
    """The answers of a consultation being written: the same risk assessment as a consultation's."""

    model_config = ConfigDict(extra="forbid")

    topic: Topic
    need_tags: list[IssueTag] = Field(default=[], max_length=len(IssueTag))
    age_band: AgeBand = AgeBand.UNKNOWN
    risk: RiskAssessment = Field(default_factory=RiskAssessment)


class SeverityComputedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule_version: str = Field(description="The rule version that computed the level")
    severity: Severity = Field(description="The computed level")
    reasons: list[str] = Field(description="The code of every criterion that applied")
    criteria: list[CriterionOut] = Field(description="The same criteria, with their wording")
    suicide_involved: bool = Field(description="The C-SSRS screener is mandatory for this case")
    mandatory: list[str] = Field(description="The C-SSRS questions to ask, following its skips")
    missing: list[str] = Field(description="The mandatory C-SSRS questions still unanswered")
    missing_fields: list[str] = Field(description="The same, as field paths of a consultation's body")


@router.post("/severity/compute", tags=["severity"])
async def compute_severity(body: SeverityComputeIn, principal: Staff) -> SeverityComputedOut:
    """Compute a severity from a risk assessment without recording anything (dry run)

    Applies the current rule version to the answers, as recording a consultation would, and says which
    C-SSRS questions are mandatory and still missing. Nothing is stored or announced.
    """
    result = service.compute_severity(
        topic=body.topic, need_tags=frozenset(body.need_tags), age_band=body.age_band, risk=body.risk
    )
    return SeverityComputedOut.model_validate(result)
