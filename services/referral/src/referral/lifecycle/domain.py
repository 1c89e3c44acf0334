"""The referral aggregate: a referral with its attempts, the change a step makes, the timeline
entries it records, and the small steps every track shares. Pure: no I/O, no clock.

Delivery track (`delivery_track.py`): the referral offers the case to one ranked candidate at a time
(an attempt) until a deadline; the partner acknowledges, or declines, or lets it expire, or cannot be
alerted at all — then the next candidate is offered, until `max_attempts` organisations were alerted
(one that could not be alerted at all does not count), and after the last one the referral is
exhausted and operators are alerted. Outcome track (`outcome_track.py`), once a partner acknowledged
(= accepted): contacted (面談) → accompanied (同行支援, optional, may repeat) → closed with an outcome
code. The counsellor may withdraw a referral that has not ended. Other services' facts: `facts.py`.

Every step returns a `Change`: the referral after it, the timeline milestones, the events to
publish and the deadline to arm. service.py stores a Change in one transaction with its outbox rows.
"""

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypedDict

from contracts.events import Candidate, Event, ReferralRequested
from contracts.vocabulary import AgeBand, DeclineReason, Gender, IssueTag, LawfulBasis, Severity, Topic
from referral.deadlines import DeadlinePolicy
from referral.lifecycle.errors import IllegalTransition
from referral.lifecycle.states import TRANSITIONS, Action, AttemptState, Milestone, ReferralState

# Who the referral service is in the timelines and alerts it writes itself.
ACTOR: Final = "referral"


@dataclass(frozen=True)
class Attempt:
    number: int
    organisation_id: uuid.UUID
    state: AttemptState
    offered_at: datetime
    deadline_at: datetime
    ended_at: datetime | None = None
    decline_reason: DeclineReason | None = None
    via: str | None = None  # how it was acknowledged: link | api


@dataclass(frozen=True)
class CaseNeeds:
    """What the directory ranks on besides topic, area and severity; codes from the consultation.
    No defaults: a referral that forgot them would be matched as somebody else."""

    need_tags: tuple[IssueTag, ...]
    age_band: AgeBand
    gender: Gender
    language: str


@dataclass(frozen=True)
class PendingReoffer:
    """An operator's choice of organisation, waiting for the directory to confirm it can be alerted."""

    request_id: uuid.UUID
    organisation_id: uuid.UUID


class EventKeys(TypedDict):
    """What every event about a referral carries first: its case (the message key) and the referral."""

    case_id: uuid.UUID
    referral_id: uuid.UUID


class MatchRequest(EventKeys):
    """What every request for a match carries, the first one and an operator's alike: the keys of
    an event about the referral, and the codes the directory ranks on, never what the person said."""

    topic: Topic
    municipality_code: str
    severity: Severity
    need_tags: tuple[IssueTag, ...]
    age_band: AgeBand
    gender: Gender
    language: str


@dataclass(frozen=True)
class Referral:
    id: uuid.UUID
    case_id: uuid.UUID
    state: ReferralState
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis
    needs: CaseNeeds
    organisation_id: uuid.UUID | None  # the current attempt's organisation
    attempt: int  # the current attempt's number; 0 until one is offered
    reasons: tuple[str, ...]  # the directory's reasons for its match, or for finding none
    candidates: tuple[Candidate, ...]
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None = None  # the open attempt's deadline
    attempts: tuple[Attempt, ...] = ()  # loaded by the repository's get and lock only
    pending_reoffer: PendingReoffer | None = None

    @property
    def current(self) -> Attempt | None:
        return next((a for a in self.attempts if a.number == self.attempt), None)

    def attempt_no(self, number: int) -> Attempt | None:
        return next((a for a in self.attempts if a.number == number), None)

    @property
    def event_keys(self) -> EventKeys:
        return EventKeys(case_id=self.case_id, referral_id=self.id)

    def match_request(self) -> MatchRequest:
        return MatchRequest(
            **self.event_keys,
            topic=self.topic,
            municipality_code=self.municipality_code,
            severity=self.severity,
            need_tags=self.needs.need_tags,
            age_band=self.needs.age_band,
            gender=self.needs.gender,
            language=self.needs.language,
        )

    def requested_event(self) -> ReferralRequested:
        return ReferralRequested(
            **self.match_request(), lawful_basis=self.lawful_basis, requested_at=self.created_at
        )

    @property
    def reoffer_organisation_id(self) -> uuid.UUID | None:
        """The organisation an operator chose, while the directory has not answered yet."""
        return self.pending_reoffer.organisation_id if self.pending_reoffer else None

    @property
    def attempts_spent(self) -> int:
        """Attempts that reached the organisation (or could have): one whose every alert channel
        failed alerted nobody, so it does not spend the budget."""
        return sum(1 for a in self.attempts if a.state is not AttemptState.DELIVERY_FAILED)


@dataclass(frozen=True)
class HandoffPolicy:
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


@dataclass(frozen=True)
class Entry:
    """One timeline milestone. `detail` holds ids and codes only: partners and operators read it."""

    milestone: Milestone
    at: datetime
    actor: str
    attempt: int | None = None
    organisation_id: uuid.UUID | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineEntry:
    """A stored milestone as read back, with the trace it happened in."""

    milestone: Milestone
    at: datetime
    actor: str
    trace_id: str | None
    attempt: int | None
    organisation_id: uuid.UUID | None
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class Deadline:
    attempt: int
    due_at: datetime


@dataclass(frozen=True)
class Timer:
    """A stored deadline, due to fire, with the case's trace context that its expiry joins."""

    id: int
    referral_id: uuid.UUID
    attempt: int
    due_at: datetime
    trace_headers: dict[str, str]


@dataclass(frozen=True)
class Change:
    referral: Referral
    entries: tuple[Entry, ...] = ()
    events: tuple[Event, ...] = ()
    deadline: Deadline | None = None
    repeated: bool = False  # an idempotent repeat: nothing new happened, nothing to store


# ---- steps every track takes -------------------------------------------------------------------


def target(referral: Referral, action: Action, why: str = "") -> ReferralState:
    """The state `action` leads to from the referral's, by TRANSITIONS; IllegalTransition if none."""
    found = TRANSITIONS[referral.state].get(action)
    if found is None:
        raise IllegalTransition(referral.state, action, why)
    return found


def replace_attempt(referral: Referral, attempt: Attempt) -> tuple[Attempt, ...]:
    return tuple(attempt if a.number == attempt.number else a for a in referral.attempts)


def end_attempt(
    referral: Referral, attempt: Attempt, state: AttemptState, at: datetime, **changes: Any
) -> Referral:
    ended = dataclasses.replace(attempt, state=state, ended_at=at, **changes)
    return dataclasses.replace(referral, attempts=replace_attempt(referral, ended), deadline_at=None)


def record_only(referral: Referral, entry: Entry) -> Change:
    """A repeat or a late fact: history in the timeline, nothing else."""
    return Change(referral, entries=(entry,))
