"""The webhook partners receive: its body's fields (ids and codes, with names and Japan time beside
them), the exact bytes that are signed, and the headers. Pure: no I/O. Signing is `notify.signing`."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from contracts.hours import JST
from contracts.municipality import register
from contracts.vocabulary import AgeBand
from notify.signing import signature_header, standard_signature_header

USER_AGENT = "tsunagu-notify/1"
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


def webhook_headers(
    *, delivery_id: str, secrets: Sequence[str], timestamp: int, body: bytes
) -> dict[str, str]:
    """Everything a partner needs to authenticate the POST and deduplicate it: the Standard
    Webhooks headers, and the older Tsunagu-* ones during the transition."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature_header(secrets, delivery_id, timestamp, body),
        # Deprecated: the pre-standard scheme, kept until every partner verifies the above.
        "Tsunagu-Timestamp": str(timestamp),
        "Tsunagu-Signature": signature_header(secrets, timestamp, body),
        "Tsunagu-Delivery-Id": delivery_id,
    }
