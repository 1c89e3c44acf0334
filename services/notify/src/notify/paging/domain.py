"""Pages: which operator alerts need a person, one page per referral while it
is open, when it pages again, and what acknowledging or resolving it does. Pure: no I/O.

A page is `triggered` from the alert that opens it: it pages the people on call at once and again
every `repeat` until someone acknowledges it in the dashboard (`acknowledged`: paging stops, the
pager hears `acknowledge`); it is `resolved` when the referral finds an organisation or is
withdrawn, or when an operator marks it handled (the pager hears `resolve`). Later alerts about
the same referral — or dead letters on the same dead-letter topic — join the open page (the
pager's `dedup_key`) instead of paging anew.
"""

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from contracts.vocabulary import AlertKind, Severity
from eventkit.errors import Conflict


class PageKind(StrEnum):
    NO_MATCH = "no_match"  # an S3/S4 referral nobody can take
    REFERRAL_EXHAUSTED = "referral_exhausted"  # an S3/S4 referral every candidate let go
    S4_UNACKNOWLEDGED = "s4_unacknowledged"  # an S4 no organisation has accepted in time
    DEAD_LETTERS = "dead_letters"  # records a consumer could not apply, on one dead-letter topic


class PageState(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class PagerAction(StrEnum):
    """PagerDuty Events API v2 `event_action`."""

    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


# The alerts that need a person now, by kind; the serious ones only where a severity says so.
_SERIOUS_ONLY = {
    AlertKind.NO_MATCH: PageKind.NO_MATCH,
    AlertKind.REFERRAL_EXHAUSTED: PageKind.REFERRAL_EXHAUSTED,
}
_ALWAYS = {
    AlertKind.S4_UNACKNOWLEDGED: PageKind.S4_UNACKNOWLEDGED,
    AlertKind.DEAD_LETTERED: PageKind.DEAD_LETTERS,
}
_S4_NAMESPACE = uuid.UUID("0b7e3c52-4f0e-4f7b-a6f1-2d9c1e35a8d4")


def page_kind(kind: AlertKind, severity: Severity | None) -> PageKind | None:
    """The page an operator alert calls for, or None: a national fallback (`no_local_match`) is
    handled, and an S2 that found nobody waits for office hours in the operators' lists."""
    if kind in _ALWAYS:
        return _ALWAYS[kind]
    if kind in _SERIOUS_ONLY and severity is not None and severity.is_serious:
        return _SERIOUS_ONLY[kind]
    return None


@dataclass(frozen=True)
class PagingPolicy:
    repeat: timedelta  # how often a triggered page pages again
    max_alert_age: timedelta  # an alert older than this when it arrives is history, not a page


@dataclass(frozen=True)
class Alarm:
    """An operator alert worth a page."""

    alert_id: uuid.UUID
    kind: PageKind
    source: str
    raised_at: datetime
    referral_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    severity: Severity | None = None
    detail: tuple[str, ...] = ()

    @property
    def dedup_key(self) -> str:
        """One open page per referral, and per dead-letter topic (later dead letters there join
        it); any other alert about no referral pages on its own."""
        if self.referral_id is not None:
            return referral_dedup_key(self.referral_id)
        if self.kind is PageKind.DEAD_LETTERS:
            topic = next((d.removeprefix("topic:") for d in self.detail if d.startswith("topic:")), "")
            return f"tsunagu:dead-letters:{topic}"
        return f"tsunagu:alert:{self.alert_id}"


def referral_dedup_key(referral_id: uuid.UUID) -> str:
    return f"tsunagu:referral:{referral_id}"


def is_stale(alarm: Alarm, *, now: datetime, policy: PagingPolicy) -> bool:
    """An alert from long ago (a first read of the topic's history, say) is not paged."""
    return now - alarm.raised_at > policy.max_alert_age


def s4_alert_id(referral_id: uuid.UUID) -> uuid.UUID:
    """The one `s4_unacknowledged` alert a referral can have: the same id however often it is found."""
    return uuid.uuid5(_S4_NAMESPACE, str(referral_id))


def is_s4_unacknowledged(*, first_offered_at: datetime, now: datetime, limit: timedelta) -> bool:
    """An S4 whose first offer is older than `limit` while no organisation has accepted it."""
    return now - first_offered_at >= limit


@dataclass(frozen=True)
class Page:
    id: uuid.UUID
    dedup_key: str
    kind: str
    kinds: tuple[str, ...]
    referral_id: uuid.UUID | None
    case_id: uuid.UUID | None
    severity: str | None
    source: str
    detail: tuple[str, ...]
    occurrences: int
    raised_at: datetime
    state: PageState
    rounds: int
    next_page_at: datetime | None
    last_paged_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None


def open_page(alarm: Alarm, *, now: datetime) -> Page:
    """A new page, due to page at once."""
    return Page(
        id=uuid.uuid4(),
        dedup_key=alarm.dedup_key,
        kind=alarm.kind.value,
        kinds=(alarm.kind.value,),
        referral_id=alarm.referral_id,
        case_id=alarm.case_id,
        severity=alarm.severity.value if alarm.severity else None,
        source=alarm.source,
        detail=alarm.detail,
        occurrences=1,
        raised_at=alarm.raised_at,
        state=PageState.TRIGGERED,
        rounds=0,
        next_page_at=now,
        last_paged_at=None,
        acknowledged_at=None,
        acknowledged_by=None,
        resolved_at=None,
        resolved_by=None,
    )


def join(page: Page, alarm: Alarm) -> Page:
    """Another alert about what an open page is about: it counts on the page and pages nobody more
    (the one paged, or the one who acknowledged, is on it already)."""
    kinds = page.kinds if alarm.kind.value in page.kinds else (*page.kinds, alarm.kind.value)
    return dataclasses.replace(page, kinds=kinds, occurrences=page.occurrences + 1)


def is_due(page: Page, *, now: datetime) -> bool:
    return page.state is PageState.TRIGGERED and page.next_page_at is not None and page.next_page_at <= now


def paged(page: Page, *, now: datetime, policy: PagingPolicy) -> Page:
    """One more round went out at `now`; the next one is due `repeat` later unless acknowledged."""
    return dataclasses.replace(
        page, rounds=page.rounds + 1, last_paged_at=now, next_page_at=now + policy.repeat
    )


class PageResolved(Conflict):
    code = "page_resolved"


@dataclass(frozen=True)
class PageChange:
    page: Page
    action: PagerAction | None  # what to tell the pager; None: nothing changed (a repeat)

    @property
    def repeated(self) -> bool:
        return self.action is None


def acknowledge(page: Page, *, by: str, at: datetime) -> PageChange:
    """Someone has it: paging stops. Again: nothing changes. A resolved page is past acknowledging."""
    if page.state is PageState.ACKNOWLEDGED:
        return PageChange(page, None)
    if page.state is PageState.RESOLVED:
        raise PageResolved("The page is resolved already; nothing is paging.")
    done = dataclasses.replace(
        page, state=PageState.ACKNOWLEDGED, acknowledged_at=at, acknowledged_by=by, next_page_at=None
    )
    return PageChange(done, PagerAction.ACKNOWLEDGE)


def resolve(page: Page, *, by: str, at: datetime) -> PageChange:
    """Handled: the page closes and a later alert opens a new one. Again: nothing changes."""
    if page.state is PageState.RESOLVED:
        return PageChange(page, None)
    done = dataclasses.replace(
        page, state=PageState.RESOLVED, resolved_at=at, resolved_by=by, next_page_at=None
    )
    return PageChange(done, PagerAction.RESOLVE)


# ---- sending ----------------------------------------------------------------------------------


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # a later round, or the acknowledgement, made it pointless


@dataclass(frozen=True)
class NewMessage:
    page_id: uuid.UUID
    round: int
    action: PagerAction
    channel: str  # notify.deliveries.domain.Channel values: webhook, email
    payload: dict[str, object]
    recipient_name: str | None = None
    recipient: str | None = None
    id: uuid.UUID = dataclasses.field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class Message:
    """A stored message of a page: what to send, to whom, and how far its tries got."""

    id: uuid.UUID
    page_id: uuid.UUID
    round: int
    action: str
    channel: str
    recipient_name: str | None
    recipient: str | None
    payload: dict[str, object]
    status: str
    tries: int
    next_try_at: datetime
    last_error: str | None
    http_status: int | None
    sent_at: datetime | None
    created_at: datetime


def gives_up(reason: str, *, tries: int, max_tries: int) -> bool:
    """A pager that refuses the event (4xx but 429) or a mailbox the server refuses (5xx) will not
    change its mind; anything else is tried again, `max_tries` times in all."""
    refused = (reason.startswith("http_4") and reason != "http_429") or reason.startswith("smtp_5")
    return refused or reason in {"no_pager", "invalid_pager_url"} or tries >= max_tries


def retry_after(tries: int) -> timedelta:
    """5 s, 10 s, 20 s … at most a minute: a page is worth hurrying, a pager being down is brief."""
    return timedelta(seconds=min(60.0, 5.0 * 2 ** max(tries - 1, 0)))
