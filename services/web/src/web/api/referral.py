"""referral's answers as web reads them: referrals, their attempts and timeline, the state counts and
the handoff report."""

from typing import Any

from pydantic import Field

from web.api import Answer, Day, Endpoint, Id, Instant


class ReferralSummary(Answer):
    id: Id
    case_id: Id
    state: str
    topic: str
    municipality_code: str
    severity: str
    lawful_basis: str
    organisation_id: Id | None
    attempt: int
    deadline_at: Instant | None
    created_at: Instant
    updated_at: Instant
    reoffer_organisation_id: Id | None = None  # the operator's choice, while directory confirms it


class Attempt(Answer):
    attempt: int
    organisation_id: Id
    state: str
    deadline_at: Instant


class TimelineEntry(Answer):
    state: str
    at: Instant
    actor: str
    trace_id: str | None
    attempt: int | None
    organisation_id: Id | None
    detail: dict[str, Any]


class Referral(ReferralSummary):
    attempts: list[Attempt]
    timeline: list[TimelineEntry]
    actions: list[str]  # what the reader may do now; screens offer these and nothing else

    @property
    def trace_ids(self) -> list[str]:
        return [e.trace_id for e in self.timeline if e.trace_id]


class StateCounts(Answer):
    by_state: dict[str, int]
    overdue: int
    needing_attention: int


class Period(Answer):
    """Japan calendar days, both included."""

    first: Day = Field(alias="from")
    last: Day = Field(alias="to")


class Totals(Answer):
    """The period's referrals at each step (the CSV lists them in this order)."""

    opened: int
    offered: int
    acknowledged: int
    exhausted: int
    unmatched: int
    withdrawn: int
    exhausted_rate: float | None


class Durations(Answer):
    """Time to acceptance of one group: a severity, prefecture code, organisation id, or `all`."""

    key: str
    count: int
    median_s: float | None
    p90_s: float | None


class Acknowledgement(Answer):
    overall: Durations
    by_severity: list[Durations]
    by_prefecture: list[Durations]
    by_organisation: list[Durations]


class Needed(Answer):
    organisations: int
    referrals: int


class OrganisationsNeeded(Answer):
    offered: int
    distribution: list[Needed]
    second: int
    third: int
    second_rate: float | None
    third_rate: float | None


class Tally(Answer):
    code: str
    times: int
    referrals: int


class Outcomes(Answer):
    contacted: int
    accompanied: list[Tally]
    closed: list[Tally]


class HandoffReport(Answer):
    period: Period
    totals: Totals
    acknowledgement: Acknowledgement
    organisations_needed: OrganisationsNeeded
    outcomes: Outcomes


# What web reads of referral, each answer in its model above.
REFERRALS = Endpoint("referral", "/v1/referrals", list[ReferralSummary])
OVERDUE = Endpoint("referral", "/v1/referrals/overdue", list[ReferralSummary])
REFERRAL = Endpoint("referral", "/v1/referrals/{referral_id}", Referral)
STATE_COUNTS = Endpoint("referral", "/v1/reports/states", StateCounts)
HANDOFF_REPORT = Endpoint("referral", "/v1/reports/handoffs", HandoffReport)
