"""The signed acknowledgement link in each alert, as the lifecycle sees it: what its page shows and
whether it may still acknowledge. Pure: no I/O.

Fetching the link never acknowledges (mail scanners fetch links); only its button does, and the link
acts once: its token id is recorded with what it did, and using it again only answers that.
"""

from dataclasses import dataclass
from enum import StrEnum

from referral.lifecycle.domain import Attempt, Referral
from referral.lifecycle.states import OPEN_ATTEMPT, AttemptState


class LinkAction(StrEnum):
    """What the page behind a link offers the partner."""

    ACKNOWLEDGE = "acknowledge"  # still offered to it and the link unused: the button
    ACKNOWLEDGED = "acknowledged"  # this organisation has accepted it: nothing left to do
    MOVED_ON = "moved_on"  # declined, expired, undeliverable, withdrawn — or the link is spent


@dataclass(frozen=True)
class LinkPage:
    """What the confirmation page shows: codes only."""

    referral: Referral
    attempt: Attempt
    used: bool

    @property
    def action(self) -> LinkAction:
        return allowed_action(self.attempt, used=self.used)


def allowed_action(attempt: Attempt, *, used: bool) -> LinkAction:
    """Whether the link may still acknowledge its attempt. Time does not enter into it: an attempt
    stays acknowledgeable until the scheduler expires it, and the link's own expiry is checked
    with its signature."""
    if attempt.state is AttemptState.ACKNOWLEDGED:
        return LinkAction.ACKNOWLEDGED
    if attempt.state in OPEN_ATTEMPT and not used:
        return LinkAction.ACKNOWLEDGE
    return LinkAction.MOVED_ON
