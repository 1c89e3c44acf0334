"""Alerts and their deliveries: keys, channels, the webhook body, retries with backoff, the
portal's alert states. Pure: no I/O (the e-mail's words are in `notify.alert_text`)."""

import base64
import json
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.events import HandoffOffered
from contracts.hours import JST
from contracts.municipality import register
from contracts.vocabulary import AgeBand

# The webhook's own type name, which partners parse: fields are added to it, never changed, so it
# stays v1 even though the offer it comes from is handoff.offered.v2.
WEBHOOK_TYPE = "handoff.offered.v1"
# The whole webhook body apart from `links`, in the order it is sent. Ids and codes only: the
# partner learns who the person is through the referral, after accepting, never through this alert.
WEBHOOK_FIELDS = (
    "type",
    "delivery_id",
    "referral_id",
    "case_id",
    "organisation_id",
    "attempt",
    "topic",
    "municipality_code",
    "severity",
    "offered_at",
    "deadline_at",
    "need_tags",
    "age_band",
    "language",
    "municipality_name",
    "deadline_at_jst",
)
# What an offer queued before its needs travelled with it meant (as HandoffOfferedV1.upcast and
# migration 0003 say): nothing known of the needs or the age, a Japanese-speaking person.
BEFORE_NEEDS: Mapping[str, Any] = {"need_tags": [], "age_band": AgeBand.UNKNOWN.value, "language": "ja"}


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


class AlertState(StrEnum):
    """The portal inbox's view of an attempt, from the referral's events."""

    OFFERED = "offered"
    ACKNOWLEDGED = "acknowledged"
    DECLINED = "declined"
    EXPIRED = "expired"
    REASSIGNED = "reassigned"  # the referral moved on to another organisation
    WITHDRAWN = "withdrawn"


# From which states an alert may move to each state; anything else is a late or repeated event.
ALERT_TRANSITIONS: Mapping[AlertState, frozenset[AlertState]] = {
    AlertState.ACKNOWLEDGED: frozenset({AlertState.OFFERED}),
    AlertState.DECLINED: frozenset({AlertState.OFFERED}),
    AlertState.EXPIRED: frozenset({AlertState.OFFERED}),
    AlertState.REASSIGNED: frozenset({AlertState.OFFERED, AlertState.DECLINED, AlertState.EXPIRED}),
    AlertState.WITHDRAWN: frozenset({AlertState.OFFERED, AlertState.ACKNOWLEDGED}),
}


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
class NewDelivery:
    id: uuid.UUID
    delivery_id: str
    referral_id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    attempt: int
    channel: Channel
    webhook_url: str | None
    email_to: str | None
    payload: dict[str, Any]
    trace_headers: dict[str, str]


@dataclass(frozen=True)
class NewAlert:
    id: uuid.UUID
    alert_key: str
    referral_id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    attempt: int
    topic: str
    municipality_code: str
    severity: str
    need_tags: tuple[str, ...]
    age_band: str
    language: str
    channels: tuple[Channel, ...]
    offered_at: datetime
    deadline_at: datetime
    deliveries: tuple[NewDelivery, ...]


def municipality_name(code: str) -> str | None:
    """'東京都新宿区' for 131041: the prefecture and the name; None for a code the register lacks."""
    return register().display_name(code)


def in_japan_time(at: datetime) -> str:
    """'2026-12-04T21:30+09:00'. To the minute, cut rather than rounded, so it is never later
    than the exact instant beside it."""
    return at.astimezone(JST).isoformat(timespec="minutes")


def completed(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The stored payload with every field of today's body. One stored before the needs travelled
    with the offer (a retry pending across the upgrade) gets what such an offer meant, and the name
    and the Japan time its codes give."""
    found = {**BEFORE_NEEDS, **payload}
    if "municipality_name" not in found and "municipality_code" in found:
        found["municipality_name"] = municipality_name(str(found["municipality_code"]))
    if "deadline_at_jst" not in found and found.get("deadline_at"):
        found["deadline_at_jst"] = in_japan_time(datetime.fromisoformat(str(found["deadline_at"])))
    return found


def alert_for_offer(event: HandoffOffered, *, trace_headers: Mapping[str, str]) -> NewAlert:
    """The alert of one offered attempt, with a delivery per push channel the organisation wants."""
    organisation = event.organisation
    key = delivery_key(event.referral_id, organisation.organisation_id, event.attempt)
    payload: dict[str, Any] = {
        "type": WEBHOOK_TYPE,
        "delivery_id": key,
        "referral_id": str(event.referral_id),
        "case_id": str(event.case_id),
        "organisation_id": str(organisation.organisation_id),
        "attempt": event.attempt,
        "topic": event.topic.value,
        "municipality_code": event.municipality_code,
        "severity": event.severity.value,
        "offered_at": event.offered_at.isoformat(),
        "deadline_at": event.deadline_at.isoformat(),
        "need_tags": [tag.value for tag in event.need_tags],
        "age_band": event.age_band.value,
        "language": event.language,
        "municipality_name": municipality_name(event.municipality_code),
        "deadline_at_jst": in_japan_time(event.deadline_at),
    }
    channels = tuple(channel for channel in Channel if channel.value in organisation.channels)
    deliveries = tuple(
        NewDelivery(
            id=uuid.uuid4(),
            delivery_id=channel_delivery_id(key, channel),
            referral_id=event.referral_id,
            case_id=event.case_id,
            organisation_id=organisation.organisation_id,
            attempt=event.attempt,
            channel=channel,
            webhook_url=organisation.webhook_url if channel is Channel.WEBHOOK else None,
            email_to=organisation.email if channel is Channel.EMAIL else None,
            payload=payload,
            trace_headers=dict(trace_headers),
        )
        for channel in channels
    )
    return NewAlert(
        id=uuid.uuid4(),
        alert_key=key,
        referral_id=event.referral_id,
        case_id=event.case_id,
        organisation_id=organisation.organisation_id,
        attempt=event.attempt,
        topic=event.topic.value,
        municipality_code=event.municipality_code,
        severity=event.severity.value,
        need_tags=tuple(tag.value for tag in event.need_tags),
        age_band=event.age_band.value,
        language=event.language,
        channels=channels,
        offered_at=event.offered_at,
        deadline_at=event.deadline_at,
        deliveries=deliveries,
    )


def failure_reason(failed: Sequence[tuple[str, str | None]]) -> str:
    """The reason of an attempt none of whose channels could be reached: the one channel's reason,
    or `<channel>:<reason>` for each when there were several."""
    if len(failed) == 1:
        return failed[0][1] or "failed"
    return ",".join(f"{channel}:{reason or 'failed'}" for channel, reason in failed)


def webhook_body(
    payload: Mapping[str, Any], *, public_base_url: str, acknowledge_url: str | None = None
) -> dict[str, Any]:
    """The JSON the partner receives; only the listed fields, whatever else the payload holds.
    The acknowledgement link is in what is sent, never in what the API shows."""
    found = completed(payload)
    body = {name: found.get(name) for name in WEBHOOK_FIELDS}
    links = {"referral": f"{public_base_url.rstrip('/')}/v1/deliveries/{payload['delivery_id']}"}
    if acknowledge_url is not None:
        links["acknowledge"] = acknowledge_url
    body["links"] = links
    return body


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Compact JSON: the exact bytes that are signed and sent."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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


def new_webhook_secret() -> str:
    """`whsec_` and 32 random bytes, base64url: shown to the operator once, then only encrypted."""
    return "whsec_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
