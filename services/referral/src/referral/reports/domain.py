"""What the handoff reports say, and over which period. Pure: no I/O, no clock.

A report covers the referrals *opened* in a period of Japan dates (first and last day included), so
that every figure in it is about the same cases: how long partners took to accept them, how many
organisations each needed, how many ran out of organisations, and what the partners did next.
Figures are counts and percentiles the database computed over every row, never a sample.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from contracts.hours import JST
from contracts.vocabulary import OutcomeCode, Severity
from eventkit.errors import invalid
from referral.lifecycle.states import AccompaniedTo, ReferralState

# A year and a day: a whole year compared with itself, leap day included. Longer asks would scan
# more than an operator's screen needs; the CSV of two periods joins them.
MAX_DAYS: Final = 366

# Only these severities open a referral; each gets a row even when no case of it was accepted.
REFERRED_SEVERITIES: Final = (Severity.S4, Severity.S3, Severity.S2)


@dataclass(frozen=True)
class Period:
    """Japan calendar days, both ends included: [first 00:00 JST, the day after last 00:00 JST)."""

    first: date
    last: date

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first, time(), JST)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), JST)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def period_of(first: date, last: date) -> Period:
    """The period an operator asked for, or the reason it cannot be reported."""
    if last < first:
        raise invalid("query.to", "The last day comes before the first day.")
    period = Period(first, last)
    if period.days > MAX_DAYS:
        raise invalid("query.to", f"A report covers at most {MAX_DAYS} days.")
    return period


class Breakdown(StrEnum):
    """How times to acknowledgement are grouped."""

    OVERALL = "overall"
    SEVERITY = "severity"
    PREFECTURE = "prefecture"  # JIS X 0401 code, the municipality code's first two digits
    ORGANISATION = "organisation"  # the accepting organisation, timed from its own offer


@dataclass(frozen=True)
class Durations:
    """One group's time to acknowledgement, in seconds (None when nothing was accepted)."""

    key: str
    count: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class Totals:
    """How the period's referrals went; a referral counts once in each line it ever reached."""

    opened: int
    offered: int  # offered to at least one organisation
    acknowledged: int  # accepted by one
    exhausted: int  # ran out of organisations (also if operators acted on it later)
    unmatched: int  # the directory found nobody
    withdrawn: int

    @property
    def exhausted_rate(self) -> float | None:
        """Of the referrals offered to anyone, the share that ran out of organisations."""
        return self.exhausted / self.offered if self.offered else None


@dataclass(frozen=True)
class OrganisationsNeeded:
    """How many organisations each offered referral was offered to: {1: 40, 2: 7, 3: 2}."""

    referrals_by_count: Mapping[int, int]

    @property
    def offered(self) -> int:
        return sum(self.referrals_by_count.values())

    def at_least(self, organisations: int) -> int:
        return sum(n for count, n in self.referrals_by_count.items() if count >= organisations)

    def rate(self, organisations: int) -> float | None:
        """The share of offered referrals that needed this many organisations or more."""
        return self.at_least(organisations) / self.offered if self.offered else None


@dataclass(frozen=True)
class Tally:
    """One outcome code: how often it was recorded, and for how many referrals."""

    code: str
    times: int
    referrals: int


@dataclass(frozen=True)
class Outcomes:
    contacted: int  # referrals with a 面談
    accompanied: tuple[Tally, ...]  # 同行支援, by destination
    closed: tuple[Tally, ...]  # closing codes


@dataclass(frozen=True)
class HandoffReport:
    period: Period
    totals: Totals
    overall: Durations
    by_severity: tuple[Durations, ...]
    by_prefecture: tuple[Durations, ...]
    by_organisation: tuple[Durations, ...]
    organisations_needed: OrganisationsNeeded
    outcomes: Outcomes


def _no_times(key: str) -> Durations:
    return Durations(key=key, count=0, median_s=None, p90_s=None)


def overall(rows: Iterable[Durations]) -> Durations:
    return next(iter(rows), _no_times("all"))


def by_severity(rows: Iterable[Durations]) -> tuple[Durations, ...]:
    """Most urgent first, each referred severity present (0 when none was accepted)."""
    found = {row.key: row for row in rows}
    return tuple(found.get(s.value, _no_times(s.value)) for s in REFERRED_SEVERITIES)


def busiest_first(rows: Iterable[Durations]) -> tuple[Durations, ...]:
    """Prefectures or organisations: the most accepted cases first, then by key for a stable order."""
    return tuple(sorted(rows, key=lambda row: (-row.count, row.key)))


def tallies(codes: Iterable[str], found: Mapping[str, Tally]) -> tuple[Tally, ...]:
    """Every known code in its own order (0 when never recorded), then any code recorded that this
    version does not know, so that nothing recorded goes missing from a report."""
    known = list(codes)
    listed = [found.get(code, Tally(code, 0, 0)) for code in known]
    return tuple(listed + [tally for code, tally in sorted(found.items()) if code not in known])


def outcomes(contacted: int, accompanied: Mapping[str, Tally], closed: Mapping[str, Tally]) -> Outcomes:
    return Outcomes(
        contacted=contacted,
        accompanied=tallies((a.value for a in AccompaniedTo), accompanied),
        closed=tallies((o.value for o in OutcomeCode), closed),
    )


@dataclass(frozen=True)
class StateCounts:
    """The dashboard's figures: every referral by its state now, and the open offers past deadline."""

    by_state: Mapping[ReferralState, int]
    overdue: int

    @property
    def needing_attention(self) -> int:
        """Referrals an operator must act on: nobody found, nobody left, or past the deadline."""
        stuck = (ReferralState.UNMATCHED, ReferralState.EXHAUSTED)
        return sum(self.by_state.get(state, 0) for state in stuck) + self.overdue


def state_counts(found: Mapping[str, int], overdue: int) -> StateCounts:
    """Every state present, 0 when no referral is in it."""
    return StateCounts({state: found.get(state.value, 0) for state in ReferralState}, overdue)
