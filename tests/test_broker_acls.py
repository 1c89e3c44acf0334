"""On a broker that demands SASL/SCRAM and authorises with ACLs (eventkit.acls, derived from the
contracts), each service may write only its own topics and read only its own subscriptions, in its
own group: a forged acknowledgement from another principal is refused."""

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from stack_plugin import local_stack
from tsunagu_stack.kafka_sasl import ADMIN, MECHANISM, SecuredBroker

from contracts.topics import ALL_TOPICS, OPS_ALERTS, REFERRALS
from eventkit.acls import all_grants, grants_for
from eventkit.kafka import KafkaSecurity, ensure_topics, make_consumer, make_producer

pytestmark = pytest.mark.integration

SERVICES = ("intake", "referral", "directory", "notify")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredBroker]:
    stack = local_stack()
    stack.kafka._ensure_jars()  # the same jars as the stack's own broker
    secured = SecuredBroker(
        Path(tmp_path_factory.mktemp("sasl-broker")),
        stack.kafka.lib,
        admin_password=secrets.token_urlsafe(16),
        users={name: secrets.token_urlsafe(16) for name in SERVICES},
    )
    secured.start()
    try:
        secured.wait_listening()
        yield secured
    finally:
        secured.stop()


def as_(broker: SecuredBroker, user: str, password: str | None = None) -> KafkaSecurity:
    known = broker.admin_password if user == ADMIN else broker.users[user]
    return KafkaSecurity(
        protocol="SASL_PLAINTEXT", sasl_mechanism=MECHANISM, username=user, password=password or known
    )


def _producer(
    broker: SecuredBroker, user: str, *, client_id: str, password: str | None = None
) -> AIOKafkaProducer:
    """A producer signed in to `broker` as `user` (with `password`, a wrong one)."""
    return make_producer(broker.bootstrap, client_id=client_id, security=as_(broker, user, password))


def _referrals_reader(broker: SecuredBroker, user: str, *, group: str, client_id: str) -> AIOKafkaConsumer:
    """A consumer of referral's topic in `group`, signed in to `broker` as `user`."""
    return make_consumer(
        broker.bootstrap, REFERRALS.name, group_id=group, client_id=client_id, security=as_(broker, user)
    )


@pytest.fixture(scope="module")
async def granted(broker: SecuredBroker) -> AsyncIterator[SecuredBroker]:
    admin = as_(broker, ADMIN)
    for attempt in range(60):  # the listener is open before the node has finished starting
        try:
            await ensure_topics(broker.bootstrap, ALL_TOPICS, security=admin, timeout_s=10)
            break
        except (KafkaError, TimeoutError, OSError):
            if attempt == 59:
                raise
            await asyncio.sleep(2)
    output = await asyncio.to_thread(broker.grant, [g.line() for g in all_grants()])
    assert f"granted {len(all_grants())} ACLs" in output
    yield broker


def test_every_service_is_granted_only_its_own_topics_and_group() -> None:
    referral = grants_for("referral")
    assert ("TOPIC", REFERRALS.name, "WRITE") in {(g.resource, g.name, g.operation) for g in referral}
    assert ("GROUP", "referral", "READ") in {(g.resource, g.name, g.operation) for g in referral}
    intake_writes = {g.name for g in grants_for("intake") if g.operation == "WRITE"}
    assert REFERRALS.name not in intake_writes  # it cannot forge referral's facts
    assert OPS_ALERTS.name in intake_writes  # it may raise an alert (a record it dead-lettered)
    assert all(g.principal == "referral" for g in referral)


async def test_the_owner_publishes_and_the_subscriber_reads_in_its_own_group(granted: SecuredBroker) -> None:
    producer = _producer(granted, "referral", client_id="acl-owner")
    await producer.start()
    key = uuid.uuid4().hex.encode()
    try:
        await producer.send_and_wait(REFERRALS.name, b'{"type": "referral.opened.v2"}', key=key)
    finally:
        await producer.stop()

    consumer = _referrals_reader(granted, "intake", group="intake", client_id="acl-reader")
    await consumer.start()
    try:
        seen: list[bytes] = []
        for _ in range(30):
            batches = await consumer.getmany(timeout_ms=1000)
            seen += [r.key for records in batches.values() for r in records if r.key]
            if key in seen:
                break
        assert key in seen
    finally:
        await consumer.stop()


async def test_a_forged_acknowledgement_from_another_service_is_refused(granted: SecuredBroker) -> None:
    forger = _producer(granted, "intake", client_id="acl-forger")
    await forger.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await asyncio.wait_for(
                forger.send_and_wait(REFERRALS.name, b'{"type": "handoff.acknowledged.v1"}'), 30
            )
    finally:
        await forger.stop()


async def test_a_service_cannot_read_in_another_services_group(granted: SecuredBroker) -> None:
    consumer = _referrals_reader(granted, "intake", group="referral", client_id="acl-intruder")
    with pytest.raises((GroupAuthorizationFailedError, TopicAuthorizationFailedError)):
        await consumer.start()
        await asyncio.wait_for(consumer.getmany(timeout_ms=5000), 30)
    await consumer.stop()


async def test_a_wrong_password_is_not_let_in(granted: SecuredBroker) -> None:
    producer = _producer(granted, "referral", client_id="acl-stranger", password="not-it")
    with pytest.raises((KafkaConnectionError, KafkaError)):
        await asyncio.wait_for(producer.start(), 30)
    await producer.stop()
