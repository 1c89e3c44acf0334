import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from contracts.events import Candidate, MatchedOrganisation, ReferralMatched
from contracts.vocabulary import Severity, Topic
from notify.domain import (
    WEBHOOK_FIELDS,
    Reason,
    RetryPolicy,
    after_failure,
    delivery_key,
    encode_body,
    http_reason,
    new_webhook_secret,
    offer_for_match,
    retry_delay_s,
    webhook_body,
)

pytestmark = pytest.mark.unit

ORGANISATION_NAME = "【サンプル】新宿区社会福祉協議会"


def a_match() -> ReferralMatched:
    organisation_id = uuid.uuid4()
    return ReferralMatched(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        organisation=MatchedOrganisation(
            organisation_id=organisation_id,
            name=ORGANISATION_NAME,
            webhook_url="https://partner.example/hooks/1",
        ),
        reasons=("municipality_covered",),
        candidates=(Candidate(organisation_id=organisation_id, rank=1, tier="municipality", reasons=()),),
        topic=Topic.LONELY,
        municipality_code="131041",
        severity=Severity.S3,
        matched_at=datetime(2025, 6, 1, 9, 30, tzinfo=UTC),
    )


def test_the_delivery_id_is_referral_organisation_and_attempt() -> None:
    referral, organisation = uuid.uuid4(), uuid.uuid4()

    assert delivery_key(referral, organisation, 2) == f"{referral}:{organisation}:2"


def test_an_offer_carries_the_match_ids_codes_url_and_trace_context() -> None:
    event = a_match()

    offer = offer_for_match(event, attempt=1, trace_headers={"traceparent": "00-abc-def-01"})

    assert offer.delivery_id == f"{event.referral_id}:{event.organisation.organisation_id}:1"
    assert offer.case_id == event.case_id
    assert offer.webhook_url == "https://partner.example/hooks/1"
    assert offer.trace_headers == {"traceparent": "00-abc-def-01"}
    assert offer.payload["offered_at"] == "2025-06-01T09:30:00+00:00"


def test_the_webhook_body_has_exactly_the_documented_fields_and_nothing_personal() -> None:
    event = a_match()
    offer = offer_for_match(event, attempt=1, trace_headers={})

    body = webhook_body(offer.payload, public_base_url="https://notify.example/")

    assert list(body) == [*WEBHOOK_FIELDS, "links"]
    assert body["type"] == "handoff.offered.v1"
    assert body["topic"] == "LONELY"
    assert body["severity"] == "S3"
    assert body["municipality_code"] == "131041"
    assert body["links"] == {"referral": f"https://notify.example/v1/deliveries/{offer.delivery_id}"}
    encoded = encode_body(body).decode()
    # Not even the organisation's own name or the match reasons travel in the alert.
    for absent in (ORGANISATION_NAME, "municipality_covered", "name", "reasons", "candidates"):
        assert absent not in encoded


def test_the_webhook_body_ignores_fields_the_stored_payload_gained_later() -> None:
    offer = offer_for_match(a_match(), attempt=1, trace_headers={})

    body = webhook_body(offer.payload | {"summary": "something personal"}, public_base_url="http://x")

    assert "summary" not in body


def test_the_body_is_compact_json() -> None:
    encoded = encode_body({"a": 1, "b": [1, 2]})

    assert encoded == b'{"a":1,"b":[1,2]}'
    assert json.loads(encoded) == {"a": 1, "b": [1, 2]}


def test_the_backoff_doubles_from_the_base_up_to_the_cap_with_full_jitter() -> None:
    def at_most(tries: int) -> float:
        return retry_delay_s(tries, base_s=1.0, max_s=300.0, rand=lambda: 1.0)

    assert [at_most(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert at_most(9) == 256.0
    assert at_most(10) == 300.0
    assert at_most(10_000) == 300.0
    assert retry_delay_s(3, base_s=1.0, max_s=300.0, rand=lambda: 0.25) == 1.0
    assert retry_delay_s(3, base_s=1.0, max_s=300.0, rand=lambda: 0.0) == 0.0


def test_a_failed_try_is_retried_until_the_last_try_and_then_given_up() -> None:
    policy = RetryPolicy(max_tries=3, base_s=2.0, max_s=60.0)

    first = after_failure(http_reason(503), tries=1, policy=policy, rand=lambda: 0.5)
    second = after_failure(Reason.TIMEOUT, tries=2, policy=policy, rand=lambda: 0.5)
    last = after_failure(Reason.CONNECT_ERROR, tries=3, policy=policy, rand=lambda: 0.5)

    assert (first.give_up, first.delay_s) == (False, 1.0)
    assert (second.give_up, second.delay_s) == (False, 2.0)
    assert last.give_up


def test_a_missing_webhook_url_is_given_up_at_once() -> None:
    policy = RetryPolicy(max_tries=8, base_s=1.0, max_s=300.0)

    assert after_failure(Reason.NO_WEBHOOK_URL, tries=1, policy=policy, rand=lambda: 0.5).give_up
    assert not after_failure(Reason.NO_SIGNING_SECRET, tries=1, policy=policy, rand=lambda: 0.5).give_up


def test_http_failures_are_named_by_their_status() -> None:
    assert http_reason(503) == "http_503"


def test_a_new_webhook_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_webhook_secret()

    assert secret.startswith("whsec_")
    encoded = secret.removeprefix("whsec_")
    assert len(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))) == 32
    assert new_webhook_secret() != secret
