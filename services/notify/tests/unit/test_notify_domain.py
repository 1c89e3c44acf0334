import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

from contracts.events import HandoffOffered, OfferedOrganisation
from contracts.vocabulary import AgeBand, IssueTag, Severity, Topic
from notify.alerts.domain import ALERT_TRANSITIONS, Alert, AlertState, alert_for_offer, is_overdue, may_answer
from notify.alerts.handlers import offer_of
from notify.deliveries.domain import (
    Channel,
    Reason,
    RetryPolicy,
    after_failure,
    delivery_key,
    failure_reason,
    http_reason,
    is_permanent,
    retry_delay_s,
)
from notify.partners.domain import new_webhook_secret
from notify.webhook import WEBHOOK_FIELDS, encode_body, webhook_body

ORGANISATION_NAME = "【サンプル】新宿区社会福祉協議会"
OFFERED_AT = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
# Fields of what is known about a person, or about the organisation, elsewhere: none is in an alert.
PERSONAL_FIELDS = {"name", "phone", "email", "address", "contact", "summary", "note", "reasons", "candidates"}


def an_offer(
    channels: tuple[str, ...] = ("webhook", "email", "portal"),
    attempt: int = 2,
    municipality_code: str = "131041",
) -> HandoffOffered:
    return HandoffOffered(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        attempt=attempt,
        organisation=OfferedOrganisation(
            organisation_id=uuid.uuid4(),
            name=ORGANISATION_NAME,
            webhook_url="https://partner.example/hooks/1",
            email="alerts@partner.example",
            channels=channels,
        ),
        topic=Topic.LONELY,
        municipality_code=municipality_code,
        severity=Severity.S3,
        deadline_at=OFFERED_AT + timedelta(minutes=30, seconds=45),
        offered_at=OFFERED_AT,
        need_tags=(IssueTag.DV, IssueTag.HIK),
        age_band=AgeBand.YOUNG_ADULT,
        language="vi",
    )


def test_the_delivery_id_is_referral_organisation_and_attempt() -> None:
    referral, organisation = uuid.uuid4(), uuid.uuid4()

    assert delivery_key(referral, organisation, 2) == f"{referral}:{organisation}:2"


def test_an_offer_makes_one_alert_with_a_delivery_per_push_channel_the_organisation_wants() -> None:
    event = an_offer()

    alert = alert_for_offer(offer_of(event), trace_headers={"traceparent": "00-abc-def-01"})

    key = f"{event.referral_id}:{event.organisation.organisation_id}:2"
    assert alert.alert_key == key
    assert alert.channels == (Channel.WEBHOOK, Channel.EMAIL)  # the portal is not a push channel
    webhook, email = alert.deliveries
    assert (webhook.channel, webhook.delivery_id, webhook.webhook_url, webhook.email_to) == (
        Channel.WEBHOOK,
        key,
        "https://partner.example/hooks/1",
        None,
    )
    assert (email.channel, email.delivery_id, email.webhook_url, email.email_to) == (
        Channel.EMAIL,
        f"{key}:email",
        None,
        "alerts@partner.example",
    )
    assert webhook.trace_headers == {"traceparent": "00-abc-def-01"}
    assert webhook.payload["deadline_at"] == "2025-06-01T10:00:45+00:00"
    assert webhook.payload == email.payload
    assert (alert.need_tags, alert.age_band, alert.language) == (("DV", "HIK"), "18-29", "vi")


def test_an_organisation_that_wants_the_portal_only_gets_no_push_delivery() -> None:
    alert = alert_for_offer(offer_of(an_offer(channels=("portal",))), trace_headers={})

    assert (alert.channels, alert.deliveries) == ((), ())


def test_the_webhook_body_has_exactly_the_documented_fields_and_nothing_personal() -> None:
    [offer, _] = alert_for_offer(offer_of(an_offer()), trace_headers={}).deliveries

    body = webhook_body(
        offer.payload, public_base_url="https://notify.example/", acknowledge_url="https://r.example/v1/a/t"
    )

    assert list(body) == [*WEBHOOK_FIELDS, "links"]
    assert body["type"] == "handoff.offered.v1"  # the partners' type name: the new fields are additive
    assert (body["topic"], body["severity"], body["municipality_code"]) == ("LONELY", "S3", "131041")
    assert body["deadline_at"] == "2025-06-01T10:00:45+00:00"
    assert body["links"] == {
        "referral": f"https://notify.example/v1/deliveries/{offer.delivery_id}",
        "acknowledge": "https://r.example/v1/a/t",
    }
    assert not PERSONAL_FIELDS & set(body)
    encoded = encode_body(body).decode()
    # Not even the organisation's own name or address travels in the alert.
    for absent in (ORGANISATION_NAME, "alerts@partner.example", "partner.example/hooks"):
        assert absent not in encoded


def test_the_webhook_body_says_what_the_case_needs_where_and_until_when_in_japan_time() -> None:
    [offer, _] = alert_for_offer(offer_of(an_offer()), trace_headers={}).deliveries

    body = webhook_body(offer.payload, public_base_url="https://notify.example")

    assert body["need_tags"] == ["DV", "HIK"]
    assert (body["age_band"], body["language"]) == ("18-29", "vi")
    assert body["municipality_name"] == "東京都新宿区"
    # To the minute, cut rather than rounded: never later than the exact deadline beside it.
    assert body["deadline_at_jst"] == "2025-06-01T19:00+09:00"


def test_a_code_the_register_does_not_know_has_no_municipality_name() -> None:
    # A well-formed code (its check digit is right) that no municipality has.
    [offer, _] = alert_for_offer(offer_of(an_offer(municipality_code="139998")), trace_headers={}).deliveries

    body = webhook_body(offer.payload, public_base_url="https://notify.example")

    assert (body["municipality_code"], body["municipality_name"]) == ("139998", None)


def test_a_payload_stored_before_the_needs_travelled_is_sent_with_what_a_v1_offer_meant() -> None:
    [offer, _] = alert_for_offer(offer_of(an_offer()), trace_headers={}).deliveries
    new_fields = ("need_tags", "age_band", "language", "municipality_name", "deadline_at_jst")
    stored_before = {k: v for k, v in offer.payload.items() if k not in new_fields}

    body = webhook_body(stored_before, public_base_url="https://notify.example")

    assert [body[name] for name in new_fields] == [
        [],
        "unknown",
        "ja",
        "東京都新宿区",
        "2025-06-01T19:00+09:00",
    ]


def test_the_webhook_body_ignores_fields_the_stored_payload_gained_later() -> None:
    [offer, _] = alert_for_offer(offer_of(an_offer()), trace_headers={}).deliveries

    body = webhook_body(offer.payload | {"summary": "something personal"}, public_base_url="http://x")

    assert "summary" not in body
    assert "acknowledge" not in body["links"]  # the API shows the body without the link


def test_an_attempt_none_of_whose_channels_worked_names_each_reason() -> None:
    assert failure_reason([("webhook", "http_503")]) == "http_503"
    assert failure_reason([("email", "smtp_550"), ("webhook", "timeout")]) == "email:smtp_550,webhook:timeout"


def test_alerts_move_only_forward() -> None:
    assert AlertState.OFFERED in ALERT_TRANSITIONS[AlertState.ACKNOWLEDGED]
    assert AlertState.ACKNOWLEDGED not in ALERT_TRANSITIONS[AlertState.REASSIGNED]
    assert AlertState.EXPIRED in ALERT_TRANSITIONS[AlertState.REASSIGNED]


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


def test_an_smtp_5xx_or_a_missing_address_is_given_up_at_once_but_4xx_is_retried() -> None:
    assert is_permanent("smtp_550") and is_permanent(Reason.NO_EMAIL_ADDRESS)
    assert not is_permanent("smtp_421") and not is_permanent("http_503")


def test_a_missing_webhook_url_is_given_up_at_once() -> None:
    policy = RetryPolicy(max_tries=8, base_s=1.0, max_s=300.0)

    assert after_failure(Reason.NO_WEBHOOK_URL, tries=1, policy=policy, rand=lambda: 0.5).give_up
    assert not after_failure(Reason.NO_SIGNING_SECRET, tries=1, policy=policy, rand=lambda: 0.5).give_up


def test_http_failures_are_named_by_their_status() -> None:
    assert http_reason(503) == "http_503"


def test_a_new_webhook_secret_is_whsec_and_32_random_bytes_in_standard_base64() -> None:
    secret = new_webhook_secret()

    assert secret.startswith("whsec_")
    encoded = secret.removeprefix("whsec_")
    assert len(base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)) == 32
    assert new_webhook_secret() != secret


def stored_alert(state: AlertState, deadline_at: datetime) -> Alert:
    return Alert(
        id=uuid.uuid4(),
        alert_key="r:o:1",
        referral_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        attempt=1,
        topic="LONELY",
        municipality_code="131041",
        severity="S3",
        need_tags=["DV"],
        age_band="12-17",
        language="vi",
        channels=["webhook"],
        offered_at=OFFERED_AT,
        deadline_at=deadline_at,
        state=state.value,
        state_at=OFFERED_AT,
        delivery_failed_at=None,
    )


def test_an_offered_alert_is_overdue_once_its_deadline_has_passed_and_one_that_moved_on_never_is() -> None:
    deadline = OFFERED_AT + timedelta(minutes=30)
    offered = stored_alert(AlertState.OFFERED, deadline)

    assert not is_overdue(offered, now=deadline)
    assert is_overdue(offered, now=deadline + timedelta(seconds=1))
    for state in set(AlertState) - {AlertState.OFFERED}:
        assert not is_overdue(stored_alert(state, deadline), now=deadline + timedelta(days=1))


def test_only_an_offered_alert_may_still_be_answered() -> None:
    deadline = OFFERED_AT + timedelta(minutes=30)

    assert [state for state in AlertState if may_answer(stored_alert(state, deadline))] == [
        AlertState.OFFERED
    ]
