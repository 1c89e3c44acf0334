"""Who may do what on the broker: each service is its own principal, allowed to write only the
topics it owns (and the dead-letter topics of those it reads) and to read only the topics it
subscribes to, in its own consumer group. Without this, anyone on the broker's network could
forge `handoff.acknowledged.v1` and have intake release a person's contact details.

The grants are derived from the contracts, so a new topic or subscription changes them by itself;
the local SASL broker test applies them (deploy/local/kafka/GrantAcls.java) and the Kubernetes
manifests can render them as Strimzi KafkaUser ACLs.
"""

from dataclasses import dataclass
from typing import Literal

from contracts.generate import PRODUCERS
from contracts.topics import SUBSCRIPTIONS, dead_letter_topic

Resource = Literal["TOPIC", "GROUP"]
Operation = Literal["READ", "WRITE", "DESCRIBE"]


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW rule: `principal` may `operation` the literal resource `name`."""

    principal: str
    resource: Resource
    name: str
    operation: Operation

    def line(self) -> str:
        return f"{self.principal} {self.resource} {self.name} {self.operation}"


def grants_for(service: str) -> tuple[Grant, ...]:
    """Everything `service` needs on the broker, and nothing else."""
    rules: set[Grant] = set()
    # The topics it publishes to (through its outbox; the contracts' PRODUCERS, as AsyncAPI says).
    for topic in PRODUCERS.get(service, ()):
        rules |= {Grant(service, "TOPIC", topic, op) for op in ("WRITE", "DESCRIBE")}
    for spec in SUBSCRIPTIONS.get(service, ()):
        rules |= {Grant(service, "TOPIC", spec.name, op) for op in ("READ", "DESCRIBE")}
        # What the consumer cannot apply it parks in the topic's dead-letter topic.
        dlt = dead_letter_topic(spec.name)
        rules |= {Grant(service, "TOPIC", dlt, op) for op in ("WRITE", "DESCRIBE")}
    if SUBSCRIPTIONS.get(service):
        rules.add(Grant(service, "GROUP", service, "READ"))  # the group is named after the service
    return tuple(sorted(rules))


def all_grants() -> tuple[Grant, ...]:
    return tuple(grant for service in PRODUCERS for grant in grants_for(service))
