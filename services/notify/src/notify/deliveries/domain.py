"""Deliveries: one per push channel of an alert, and their tries — keys, channels, statuses, why a
try failed, and retries with backoff. Pure: no I/O (the body partners receive is `notify.webhook`)."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    """Push channels; the portal inbox is not one: every alert is in it, and nothing is sent."""

    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next_attempt_at
    SENDING = "sending"  # claimed by a sender until lease_until
    DELIVERED = "delivered"  # the partner answered 2xx (or the mail server accepted it); never sent again
    FAILED = "failed"  # gave up
    CANCELLED = "cancelled"  # the attempt ended before it was sent: nothing left to alert about


class Reason(StrEnum):
    """Machine-readable causes of a failed try; `http_<status>` and `smtp_<code>` are added."""

    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect_error"
    TRANSPORT_ERROR = "transport_error"
    NO_SIGNING_SECRET = "no_signing_secret"  # noqa: S105 - a reason code, not a secret
    SIGNING_SECRET_UNREADABLE = "signing_secret_unreadable"  # noqa: S105
    NO_WEBHOOK_URL = "no_webhook_url"
    INVALID_WEBHOOK_URL = "invalid_webhook_url"
    NO_EMAIL_ADDRESS = "no_email_address"
    SMTP_ERROR = "smtp_error"


# The URL or address travels with the delivery row, so no retry can change these; waiting would
# only delay the failure event that lets the referral move on to the next candidate.
PERMANENT_REASONS = frozenset(
    {Reason.NO_WEBHOOK_URL.value, Reason.INVALID_WEBHOOK_URL.value, Reason.NO_EMAIL_ADDRESS.value}
)


def http_reason(status: int) -> str:
    return f"http_{status}"


def smtp_reason(code: int) -> str:
    return f"smtp_{code}"


def is_permanent(reason: str) -> bool:
    # An SMTP 5xx reply is the server's final word on this message (unknown mailbox, refused).
    return reason in PERMANENT_REASONS or (reason.startswith("smtp_5") and reason[5:].isdigit())


def delivery_key(referral_id: uuid.UUID, organisation_id: uuid.UUID, attempt: int) -> str:
    """The alert's dedup key: one per (referral, organisation, attempt); the webhook's delivery id,
    which partners deduplicate on, the same for every retry."""
    return f"{referral_id}:{organisation_id}:{attempt}"


def channel_delivery_id(key: str, channel: Channel) -> str:
    # The webhook keeps the bare key (what partners have deduplicated on since the backbone).
    return key if channel is Channel.WEBHOOK else f"{key}:{channel.value}"


@dataclass(frozen=True)
class _DeliveryFields:
    """What a delivery holds, queued or stored: its key, the attempt, and what to send where."""

    id: uuid.UUID
    delivery_id: str
    referral_id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    attempt: int
    channel: str
    webhook_url: str | None
    email_to: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class NewDelivery(_DeliveryFields):
    channel: Channel  # a push channel; the stored delivery has its value
    trace_headers: dict[str, str]


@dataclass(frozen=True)
class Delivery(_DeliveryFields):
    """A stored delivery: what to send where, and how far its tries have got."""

    status: str
    tries: int
    next_attempt_at: datetime
    lease_until: datetime | None
    last_error: str | None
    trace_headers: dict[str, str]
    created_at: datetime
    delivered_at: datetime | None

    @property
    def next_try_at(self) -> datetime | None:
        """When its next try is due; only a pending delivery has one."""
        return self.next_attempt_at if self.status == DeliveryStatus.PENDING else None


@dataclass(frozen=True)
class DeliveryTry:
    """One try of a delivery, as recorded: status codes and error types only."""

    try_no: int
    at: datetime
    http_status: int | None
    error: str | None
    duration_ms: int


def failure_reason(failed: Sequence[tuple[str, str | None]]) -> str:
    """The reason of an attempt none of whose channels could be reached: the one channel's reason,
    or `<channel>:<reason>` for each when there were several."""
    if len(failed) == 1:
        return failed[0][1] or "failed"
    return ",".join(f"{channel}:{reason or 'failed'}" for channel, reason in failed)


def retry_delay_s(tries: int, *, base_s: float, max_s: float, rand: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(max, base·2^(tries−1))), so failed senders spread out."""
    doublings = min(max(tries - 1, 0), 62)  # beyond that the cap has long been reached
    ceiling: float = min(max_s, base_s * 2.0**doublings)
    return rand() * ceiling


@dataclass(frozen=True)
class RetryPolicy:
    max_tries: int
    base_s: float
    max_s: float


@dataclass(frozen=True)
class NextStep:
    """What a failed try leads to: another try after `delay_s`, or the end."""

    give_up: bool
    delay_s: float = 0.0


def after_failure(reason: str, *, tries: int, policy: RetryPolicy, rand: Callable[[], float]) -> NextStep:
    if is_permanent(reason) or tries >= policy.max_tries:
        return NextStep(give_up=True)
    return NextStep(
        give_up=False,
        delay_s=retry_delay_s(tries, base_s=policy.base_s, max_s=policy.max_s, rand=rand),
    )
