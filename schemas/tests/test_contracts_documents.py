"""The committed JSON Schemas and AsyncAPI document match the models they describe."""

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
import yaml

from contracts import generate
from contracts.events import (
    ALL_EVENTS,
    SUPERSEDED_BY,
    Candidate,
    ConsultationRecorded,
    ConsultationRecordedV1,
    Event,
    HandoffAcknowledged,
    HandoffDeclined,
    HandoffDeliveryFailed,
    HandoffExpired,
    HandoffNotified,
    HandoffOffered,
    HandoffOfferedV1,
    HandoffOutcomeRecorded,
    MatchedOrganisation,
    OfferedOrganisation,
    OperatorAlertRaised,
    ReferralEscalated,
    ReferralExhausted,
    ReferralHandledElsewhere,
    ReferralMatched,
    ReferralRequested,
    ReferralRequestedV1,
    ReferralUnmatched,
    ReferralWithdrawn,
    ReofferMatched,
    ReofferRequested,
    ReofferUnmatched,
)
from contracts.hours import Hours, OpeningHours
from contracts.topics import ALL_TOPICS, EVENT_TOPICS, SUBSCRIPTIONS, dead_letter_topic
from contracts.vocabulary import (
    AgeBand,
    AlertKind,
    Channel,
    DeclineReason,
    Gender,
    HandledElsewhereReason,
    IssueTag,
    LawfulBasis,
    OutcomeCode,
    OutcomeStage,
    Severity,
    Topic,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 5, 3, 22, 15, tzinfo=UTC)
NEEDS: dict[str, Any] = {
    "need_tags": (IssueTag.DV, IssueTag.HOU),
    "age_band": AgeBand.YOUNG_ADULT,
    "gender": Gender.FEMALE,
    "language": "vi",
}
CASE = uuid.uuid4()
REFERRAL = uuid.uuid4()
ORG = uuid.uuid4()
REFERRAL_IDS: dict[str, Any] = {"case_id": CASE, "referral_id": REFERRAL}

# What a case is routed on, and each event of several versions without what later versions added.
ROUTING: dict[str, Any] = {"topic": Topic.LONELY, "municipality_code": "131016", "severity": Severity.S3}
RECORDED: dict[str, Any] = {
    "case_id": CASE,
    "channel": Channel.PHONE,
    **ROUTING,
    "lawful_basis": LawfulBasis.CONSENT,
    "recorded_at": NOW,
}
REQUESTED: dict[str, Any] = {
    **REFERRAL_IDS,
    **ROUTING,
    "lawful_basis": LawfulBasis.CONSENT,
    "requested_at": NOW,
}
OFFERED: dict[str, Any] = {
    **REFERRAL_IDS,
    "attempt": 1,
    **ROUTING,
    "deadline_at": NOW,
    "offered_at": NOW,
}

SAMPLES: list[Event] = [
    ConsultationRecorded(**RECORDED, **NEEDS),
    ConsultationRecordedV1(**RECORDED),
    ReferralRequested(**REQUESTED, **NEEDS),
    ReferralRequestedV1(**REQUESTED),
    ReferralMatched(
        **REFERRAL_IDS,
        organisation=MatchedOrganisation(organisation_id=ORG, name="sample", webhook_url=None),
        reasons=("covers_municipality:131016",),
        candidates=(
            Candidate(
                organisation_id=ORG,
                rank=1,
                tier="municipality",
                reasons=(),
                hours=OpeningHours.of(Hours.public_office()),
            ),
        ),
        **ROUTING,
        matched_at=NOW,
    ),
    ReferralUnmatched(**REFERRAL_IDS, reasons=("out_of_area",), unmatched_at=NOW),
    HandoffNotified(**REFERRAL_IDS, organisation_id=ORG, attempt=1, delivery_id="d", notified_at=NOW),
    HandoffDeliveryFailed(
        **REFERRAL_IDS,
        organisation_id=ORG,
        attempt=1,
        delivery_id="d",
        reason="http_503",
        failed_at=NOW,
    ),
    HandoffOffered(
        **OFFERED,
        organisation=OfferedOrganisation(organisation_id=ORG, name="sample", channels=("webhook", "email")),
        need_tags=(IssueTag.DV, IssueTag.CHILD),
        age_band=AgeBand.YOUNG_ADULT,
        language="vi",
    ),
    HandoffOfferedV1(
        **OFFERED, organisation=OfferedOrganisation(organisation_id=ORG, name="sample", channels=("webhook",))
    ),
    HandoffAcknowledged(**REFERRAL_IDS, attempt=1, organisation_id=ORG, via="link", acknowledged_at=NOW),
    HandoffDeclined(
        **REFERRAL_IDS,
        attempt=1,
        organisation_id=ORG,
        reason=DeclineReason.NO_CAPACITY,
        declined_at=NOW,
    ),
    HandoffExpired(**REFERRAL_IDS, attempt=1, organisation_id=ORG, deadline_at=NOW, expired_at=NOW),
    ReferralEscalated(
        **REFERRAL_IDS,
        from_attempt=1,
        to_attempt=2,
        from_organisation_id=ORG,
        to_organisation_id=uuid.uuid4(),
        cause="expired",
        escalated_at=NOW,
    ),
    ReferralExhausted(**REFERRAL_IDS, attempts=3, exhausted_at=NOW),
    HandoffOutcomeRecorded(
        **REFERRAL_IDS,
        organisation_id=ORG,
        stage=OutcomeStage.CLOSED,
        outcome=OutcomeCode.SUPPORTED,
        recorded_at=NOW,
    ),
    ReferralWithdrawn(**REFERRAL_IDS, reason="duplicate", withdrawn_at=NOW),
    OperatorAlertRaised(
        case_id=CASE,
        alert_id=uuid.uuid4(),
        kind=AlertKind.NO_LOCAL_MATCH,
        referral_id=REFERRAL,
        severity=Severity.S3,
        raised_by="directory",
        raised_at=NOW,
    ),
    ReofferRequested(
        **REFERRAL_IDS,
        request_id=uuid.uuid4(),
        organisation_id=ORG,
        **ROUTING,
        requested_at=NOW,
        **NEEDS,
    ),
    ReofferMatched(
        **REFERRAL_IDS,
        request_id=uuid.uuid4(),
        organisation=Candidate(
            organisation_id=ORG,
            rank=1,
            tier="prefecture",
            reasons=("operator_choice",),
            name="sample",
            channels=("webhook",),
            webhook_url="https://partner.example/hooks",
            hours=OpeningHours.of(Hours.public_office()),
        ),
        matched_at=NOW,
    ),
    ReofferUnmatched(
        **REFERRAL_IDS,
        request_id=uuid.uuid4(),
        organisation_id=ORG,
        reasons=("inactive",),
        unmatched_at=NOW,
    ),
    ReferralHandledElsewhere(
        **REFERRAL_IDS,
        reason=HandledElsewhereReason.EMERGENCY_SERVICES,
        handled_at=NOW,
    ),
]


def test_every_event_has_a_sample_here() -> None:
    assert {type(s) for s in SAMPLES} == set(ALL_EVENTS)


def test_committed_json_schemas_are_not_stale() -> None:
    expected = generate.render_jsonschemas()
    committed = {p.name: p.read_text(encoding="utf-8") for p in generate.JSONSCHEMA_DIR.glob("*.json")}
    assert committed == expected, "run `python -m contracts.generate` and commit the result"


def test_committed_asyncapi_document_is_not_stale() -> None:
    committed = generate.ASYNCAPI_PATH.read_text(encoding="utf-8")
    assert committed == generate.render_asyncapi(), "run `python -m contracts.generate`"


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_a_serialised_event_validates_against_its_committed_schema(event: Event) -> None:
    schema = json.loads((generate.JSONSCHEMA_DIR / f"{event.TYPE}.json").read_text("utf-8"))
    jsonschema.validate(event.model_dump(mode="json"), schema)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_a_consumer_ignores_fields_it_does_not_know(event: Event) -> None:
    data = event.model_dump(mode="json") | {"added_in_a_later_minor_version": 1}
    assert type(event).model_validate(data) == event


def test_asyncapi_has_a_channel_per_topic_and_a_message_per_event() -> None:
    document = yaml.safe_load(generate.ASYNCAPI_PATH.read_text(encoding="utf-8"))
    assert document["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {t.name for t in ALL_TOPICS}
    messages = document["components"]["messages"]
    assert {m["name"] for m in messages.values()} == {e.TYPE for e in ALL_EVENTS}
    for event in ALL_EVENTS:
        channel = document["channels"][event.TOPIC.replace(".", "_")]
        assert event.__name__ in channel["messages"]
        ref = messages[event.__name__]["payload"]["$ref"]
        assert (generate.SCHEMAS_DIR / ref).exists()


def test_asyncapi_names_a_receive_operation_for_every_subscription() -> None:
    document = yaml.safe_load(generate.ASYNCAPI_PATH.read_text(encoding="utf-8"))
    receives = {
        (op["bindings"]["kafka"]["groupId"]["const"], op["channel"]["$ref"].split("/")[-1])
        for op in document["operations"].values()
        if op["action"] == "receive"
    }
    expected = {
        (group, spec.name.replace(".", "_")) for group, specs in SUBSCRIPTIONS.items() for spec in specs
    }
    assert receives == expected


def test_every_event_topic_has_a_dead_letter_topic() -> None:
    names = {t.name for t in ALL_TOPICS}
    for topic in EVENT_TOPICS:
        assert dead_letter_topic(topic.name) in names


def test_event_types_are_versioned_and_topics_too() -> None:
    for event in ALL_EVENTS:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+\.v[0-9]+", event.TYPE), event.TYPE
        assert event.TOPIC.endswith(".v1")
    # One current version of each event: every other is superseded and read through `upcast`.
    current = [e.TYPE.rsplit(".", 1)[0] for e in ALL_EVENTS if e not in SUPERSEDED_BY]
    assert len(current) == len(set(current))


PERSONAL_FIELD_WORDS = ("name", "phone", "address", "summary", "contact", "narrative", "text", "email")


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.TYPE)
def test_no_event_has_a_field_for_personal_data(event: type[Event]) -> None:
    def walk(model: type, prefix: str = "") -> list[str]:
        found = []
        for field_name, info in model.model_fields.items():  # type: ignore[attr-defined]
            path = prefix + field_name
            found.append(path)
            annotation = info.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                found += walk(annotation, path + ".")
        return found

    # An organisation's public name and alert address are the organisation's, not a person's.
    allowed = {"organisation.name", "organisation.email"}
    for path in walk(event):
        if path in allowed:
            continue
        assert not any(word in path.split(".")[-1] for word in PERSONAL_FIELD_WORDS), path


@pytest.mark.parametrize("old", list(SUPERSEDED_BY), ids=lambda e: e.TYPE)
def test_a_superseded_version_is_read_and_upcast_to_the_current_one(old: type[Event]) -> None:
    sample = next(e for e in SAMPLES if type(e) is old)
    current = SUPERSEDED_BY[old]

    upcast = sample.upcast()  # type: ignore[attr-defined]
    assert type(upcast) is current and current.TOPIC == old.TOPIC
    assert upcast.model_dump(include=set(type(sample).model_fields)) == sample.model_dump()


@pytest.mark.parametrize(
    "event", [ConsultationRecorded, ReferralRequested, HandoffOffered], ids=lambda e: e.TYPE
)
def test_what_a_consumer_ranks_or_alerts_on_is_required_and_has_no_default(event: type[Event]) -> None:
    for name in ("need_tags", "age_band", "language"):
        assert event.model_fields[name].is_required(), f"{event.TYPE}.{name} must be required"
