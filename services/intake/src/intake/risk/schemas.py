"""risk's HTTP models of a decision and its criteria, shared by the dry run and a case's history."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from contracts.vocabulary import Severity
from intake.risk.answers import RiskAssessment


class CriterionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    level: Severity
    text: str
    text_ja: str


class ExplanationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reproduced: bool = Field(description="The stored answers give the stored level under the stored rules")
    level: Severity
    criteria: list[CriterionOut]


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule_version: str
    answers: RiskAssessment | None
    computed: Severity | None
    flags: list[str]
    previous: Severity | None
    final: Severity
    direction: str
    reason: str | None
    decided_by: str
    decided_at: datetime
    explanation: ExplanationOut | None
