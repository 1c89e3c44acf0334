"""Who may read which referral, and how much of it. Pure: no I/O.

Counsellors and operators read everything. A partner reads a referral only while it is offered to,
or accepted by, its own organisation, and then only its own attempts and their timeline entries; a
referral it may not read looks exactly like one that does not exist.
"""

import dataclasses
import uuid
from dataclasses import dataclass

from eventkit.auth import Principal, Role
from referral.lifecycle.domain import Referral, TimelineEntry

# Timeline details kept for provenance only: the id of the event a fact came in.
_INTERNAL_DETAIL = frozenset({"event_id"})


@dataclass(frozen=True)
class ReferralRecord:
    """A referral with its timeline, as much of both as the reader may see."""

    referral: Referral
    timeline: tuple[TimelineEntry, ...]


def is_staff(principal: Principal) -> bool:
    return principal.role in (Role.COUNSELLOR, Role.OPERATOR)


def may_read(principal: Principal, referral: Referral) -> bool:
    if is_staff(principal):
        return True
    return referral.organisation_id is not None and principal.is_partner_of(referral.organisation_id)


def narrowed_to(principal: Principal) -> uuid.UUID | None:
    """The organisation whose attempts a partner's reads are narrowed to; None for the staff."""
    return principal.organisation_id if principal.role is Role.PARTNER else None


def seen(referral: Referral, timeline: list[TimelineEntry], *, only: uuid.UUID | None) -> ReferralRecord:
    """The referral with only `only`'s attempts (all of them for None), and each timeline entry
    without its internal details."""
    attempts = tuple(a for a in referral.attempts if only is None or a.organisation_id == only)
    entries = tuple(
        dataclasses.replace(e, detail={k: v for k, v in e.detail.items() if k not in _INTERNAL_DETAIL})
        for e in timeline
    )
    return ReferralRecord(dataclasses.replace(referral, attempts=attempts), entries)
