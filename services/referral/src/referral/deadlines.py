"""Acknowledgement deadlines by severity. Pure: no I/O.

S4 and S3 count wall-clock time: a serious case does not wait for office hours. S2 counts the
chosen organisation's own open time, as the directory read its hours when it ranked it (an NPO
chosen because it is open on a holiday has the holiday's hours, not the next weekday's); when
its hours are unknown, a public office's (weekdays 08:30–17:15 Japan time, closed on national
holidays and 12/29–1/3) are what a counsellor can reasonably expect.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.events import Candidate
from contracts.hours import Hours, HoursBasis
from contracts.vocabulary import Severity


def hours_of(candidate: Candidate | None) -> Hours:
    """The hours an S2 deadline counts: the candidate's, else the public-office default."""
    if candidate is None or candidate.hours is None or candidate.hours.basis is HoursBasis.UNKNOWN:
        return Hours.public_office()
    return candidate.hours.hours()


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long a partner has to acknowledge, by severity."""

    s4: timedelta = timedelta(minutes=10)
    s3: timedelta = timedelta(minutes=30)
    s2_open_time: timedelta = timedelta(hours=8)  # about one working day of the organisation's

    def deadline(self, severity: Severity, *, offered_at: datetime, candidate: Candidate | None) -> datetime:
        if severity is Severity.S4:
            return offered_at + self.s4
        if severity is Severity.S3:
            return offered_at + self.s3
        if severity is Severity.S2:
            due = hours_of(candidate).add_open_time(offered_at, self.s2_open_time)
            if due is None:
                # Hours that open less than that within a year (a rule valid for a week only):
                # the public office's calendar always gives an answer.
                due = Hours.public_office().add_open_time(offered_at, self.s2_open_time)
                assert due is not None
            return due.astimezone(offered_at.tzinfo)
        raise ValueError(f"severity {severity.value} is never handed off")
