"""Kafka connection security and topic settings come from configuration."""

import pytest

from contracts.topics import CONSULTATIONS, TopicSpec, dead_letter_topic
from eventkit.kafka import DAY_MS, KafkaSecurity, TopicPolicy
from eventkit.topics import TopicSettings


def test_plaintext_is_the_default_and_sasl_scram_carries_its_credentials() -> None:
    assert KafkaSecurity().client_options() == {"security_protocol": "PLAINTEXT"}
    sasl = KafkaSecurity(
        protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-256", username="intake", password="pw"
    )
    assert sasl.client_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "intake",
        "sasl_plain_password": "pw",
    }
    assert "ssl_context" in KafkaSecurity(protocol="SASL_SSL", username="a", password="b").client_options()


def test_dead_letters_are_kept_far_longer_than_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "2")
    policy = TopicSettings().policy()

    events = policy.configs(CONSULTATIONS)
    letters = policy.configs(TopicSpec(dead_letter_topic(CONSULTATIONS.name), 1, "dead letters"))

    assert (policy.replication_factor, events["min.insync.replicas"]) == (3, "2")
    assert int(events["retention.ms"]) == 7 * DAY_MS
    assert int(letters["retention.ms"]) == 365 * DAY_MS
    assert TopicPolicy().replication_factor == 1
