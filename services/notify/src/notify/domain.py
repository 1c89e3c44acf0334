"""Deliveries and their rules: the delivery id, the webhook body, retries with backoff. Pure: no I/O."""

import base64
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from contracts.events import ReferralMatched

WEBHOOK_TYPE = "handoff.offered.v1"
# The whole webhook body apart from `links`, in the order it is sent. Ids and codes only: the
# partner learns who the person is through the referral, never through this alert.
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
)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next_attempt_at
    SENDING = "sending"  # claimed by a sender until lease_until
    DELIVERED = "delivered"  # the partner answered 2xx; never sent again
    FAILED = "failed"  # gave up; handoff.delivery_failed.v1 was staged


class Reason(StrEnum):
    """Machine-readable causes of a failed try; `http_<status>` is added for HTTP answers."""

    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect_error"
    TRANSPORT_ERROR = "transport_error"
    NO_SIGNING_SECRET = "no_signing_secret"  # noqa: S105 - a reason code, not a secret
    SIGNING_SECRET_UNREADABLE = "signing_secret_unreadable"  # noqa: S105
    NO_WEBHOOK_URL = "no_webhook_url"
    INVALID_WEBHOOK_URL = "invalid_webhook_url"


# The URL travels with the delivery row, so no retry can change these; waiting would only delay
# the failure event that lets the referral move on to the next candidate.
PERMANENT_REASONS = frozenset({Reason.NO_WEBHOOK_URL.value, Reason.INVALID_WEBHOOK_URL.value})


def http_reason(status: int) -> str:
    return f"http_{status}"


def delivery_key(referral_id: uuid.UUID, organisation_id: uuid.UUID, attempt: int) -> str:
    """The id partners deduplicate on; the same for every retry of one delivery."""
    return f"{referral_id}:{organisation_id}:{attempt}"


@dataclass(frozen=True)
class NewDelivery:
    id: uuid.UUID
    delivery_id: str
    referral_id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    attempt: int
    webhook_url: str | None
    payload: dict[str, Any]
    trace_headers: dict[str, str]


def offer_for_match(event: ReferralMatched, *, attempt: int, trace_headers: Mapping[str, str]) -> NewDelivery:
    """The delivery that alerts the chosen organisation about a matched referral."""
    organisation_id = event.organisation.organisation_id
    delivery_id = delivery_key(event.referral_id, organisation_id, attempt)
    payload: dict[str, Any] = {
        "type": WEBHOOK_TYPE,
        "delivery_id": delivery_id,
        "referral_id": str(event.referral_id),
        "case_id": str(event.case_id),
        "organisation_id": str(organisation_id),
        "attempt": attempt,
        "topic": event.topic.value,
        "municipality_code": event.municipality_code,
        "severity": event.severity.value,
        "offered_at": event.matched_at.isoformat(),
    }
    return NewDelivery(
        id=uuid.uuid4(),
        delivery_id=delivery_id,
        referral_id=event.referral_id,
        case_id=event.case_id,
        organisation_id=organisation_id,
        attempt=attempt,
        webhook_url=event.organisation.webhook_url,
        payload=payload,
        trace_headers=dict(trace_headers),
    )


def webhook_body(payload: Mapping[str, Any], *, public_base_url: str) -> dict[str, Any]:
    """The JSON the partner receives; only the listed fields, whatever else the payload holds."""
    body = {name: payload[name] for name in WEBHOOK_FIELDS}
    body["links"] = {"referral": f"{public_base_url.rstrip('/')}/v1/deliveries/{payload['delivery_id']}"}
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
    if reason in PERMANENT_REASONS or tries >= policy.max_tries:
        return NextStep(give_up=True)
    return NextStep(
        give_up=False,
        delay_s=retry_delay_s(tries, base_s=policy.base_s, max_s=policy.max_s, rand=rand),
    )


def new_webhook_secret() -> str:
    """`whsec_` and 32 random bytes, base64url: shown to the operator once, then only encrypted."""
    return "whsec_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
