"""The answers of a risk assessment, as a counsellor records them, and the facts the rules read."""

from dataclasses import dataclass
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.vocabulary import AgeBand, IssueTag, Topic


class Cssrs(BaseModel):
    """C-SSRS screener, past month. Q3–Q5 are skipped when Q2 is 'no' (the screener's own rule)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q1_wish_to_be_dead: bool | None = Field(default=None, description="Q1 死んでしまいたいと思ったか")
    q2_suicidal_thoughts: bool | None = Field(default=None, description="Q2 実際に自殺を考えたか")
    q3_method: bool | None = Field(default=None, description="Q3 方法を考えたか")
    q4_intent: bool | None = Field(default=None, description="Q4 実行するつもりがあったか")
    q5_plan: bool | None = Field(default=None, description="Q5 計画を立て、実行するつもりか")
    q6_behaviour: bool | None = Field(default=None, description="Q6 準備や企図をしたことがあるか")
    q6_within_3_months: bool | None = Field(default=None, description="Q6 それは3か月以内か")


class ProtectiveFactor(StrEnum):
    FAMILY = "family"
    FRIENDS = "friends"
    PET = "pet"
    TREATMENT = "treatment"
    FUTURE_PLANS = "future_plans"
    FAITH = "faith"
    OTHER = "other"


class RiskAssessment(BaseModel):
    """The counsellor's structured answers. Codes and booleans only: never free text.

    It is both the API's body and the rules' input, so that what a counsellor sent is exactly
    what the decision is explained from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cssrs: Cssrs | None = None
    # Immediacy (S4)
    attempt_in_progress: bool = Field(default=False, description="Attempt in progress or just taken")
    access_to_means: bool = Field(default=False, description="Has the means at hand")
    can_agree_to_stay_safe: bool | None = Field(default=None, description="Can agree to stay safe")
    violence_now: bool = Field(default=False, description="Violence happening now or imminent")
    medical_emergency: bool = False
    child_in_immediate_danger: bool = False
    # Serious (S3)
    safe_place_tonight: bool | None = Field(default=None, description="Has a safe place tonight (N2)")
    abuse_needs_shelter: bool = Field(default=False, description="DV or abuse needing shelter")
    suspected_child_abuse: bool = Field(default=False, description="189 report is mandatory")
    urgent_in_person_help: bool = Field(default=False, description="Asks for urgent in-person help")
    # Referral (S2)
    no_money_or_food: bool = Field(default=False, description="No money/food for the next days (N1)")
    eviction_or_cutoff_7_days: bool = Field(default=False, description="Eviction or cut-off ≤ 7 days")
    long_term_hikikomori: bool = False
    wants_follow_up: bool = False
    # Signpost (S1)
    distress: bool = Field(default=False, description="Loneliness or distress, no acute need")
    protective_factors: tuple[ProtectiveFactor, ...] = ()


class EmergencyService(StrEnum):
    POLICE = "110"
    AMBULANCE_FIRE = "119"


class EmergencyCaller(StrEnum):
    COUNSELLOR = "counsellor"
    PERSON = "person"  # the counsellor helped the person to call
    OTHER = "other"


class EmergencyCall(BaseModel):
    """S4: that 110/119 was called, by whom and when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: EmergencyService
    called_by: EmergencyCaller = EmergencyCaller.COUNSELLOR
    called_at: AwareDatetime


@dataclass(frozen=True)
class CaseFacts:
    """What the rules read: the answers and the codes of the case around them."""

    risk: RiskAssessment
    topic: Topic
    need_tags: frozenset[IssueTag]
    age_band: AgeBand
