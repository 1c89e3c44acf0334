"""Every Kafka topic of the system, with its partition count; dead-letter topics are derived."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    description: str


DLT_SUFFIX = ".dlt"

# Partitions bound consumer parallelism; messages are keyed by case id, so one case stays in order.
CONSULTATIONS = TopicSpec(
    "intake.consultations.v1", 6, "Consultations recorded by hotline counsellors (no personal data)."
)
REFERRALS = TopicSpec("referral.referrals.v1", 6, "Referral lifecycle facts owned by the referral service.")
MATCHES = TopicSpec(
    "directory.matches.v1", 6, "The directory's answer to a referral: a ranked match or none."
)
DELIVERIES = TopicSpec(
    "notify.deliveries.v1", 6, "Outcomes of alerting partner organisations about a handoff."
)

OPS_ALERTS = TopicSpec(
    "ops.alerts.v1", 3, "Alerts for operators: no local match, exhausted referrals, failures."
)

EVENT_TOPICS: tuple[TopicSpec, ...] = (CONSULTATIONS, REFERRALS, MATCHES, DELIVERIES, OPS_ALERTS)


def dead_letter_topic(topic: str) -> str:
    return topic + DLT_SUFFIX


# One partition: a dead-letter topic is read by people and replayed by hand, in order.
DEAD_LETTER_TOPICS: tuple[TopicSpec, ...] = tuple(
    TopicSpec(dead_letter_topic(t.name), 1, f"Dead letters of {t.name}.") for t in EVENT_TOPICS
)

ALL_TOPICS: tuple[TopicSpec, ...] = EVENT_TOPICS + DEAD_LETTER_TOPICS

# Who reads what, by consumer group (one group per service). Documentation and AsyncAPI use it;
# each service's HANDLERS table must agree, and a test checks that it does.
SUBSCRIPTIONS: dict[str, tuple[TopicSpec, ...]] = {
    "intake": (REFERRALS,),
    "referral": (CONSULTATIONS, MATCHES, DELIVERIES),
    "directory": (REFERRALS,),
    "notify": (REFERRALS, OPS_ALERTS),
}
