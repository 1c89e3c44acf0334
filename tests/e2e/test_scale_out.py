"""Two replicas per consumer service (`make up REPLICAS=2`): Kafka shares each group's partitions
between them, nothing is lost or duplicated under load, and a replica's death hands its partitions
to the other."""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from conftest import Receiver, System
from support import PersonalData, accept_all, assert_notified_exactly_once, case_stream, wait_until

# The consumer services; web reads no topic.
CONSUMERS = ("intake", "referral", "directory", "notify")
TOTAL = 160

Assignment = dict[str, set[tuple[str, int]]]  # member id → the (topic, partition) pairs it holds


def group_assignment(bootstrap: str, group: str) -> Assignment:
    """Who in a consumer group holds which partitions, as the group's coordinator says."""

    async def describe() -> Assignment:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="scale-out-test")
        await admin.start()
        try:
            [response] = await admin.describe_consumer_groups([group])
        finally:
            await admin.close()
        members: Assignment = {}
        for _error, _group, state, _ptype, _protocol, group_members, *_ in response.groups:
            if state != "Stable":
                return {}  # a rebalance is under way: no answer yet
            for member_id, _client, _host, _metadata, raw in group_members:
                decoded = ConsumerProtocolMemberAssignment.decode(raw)
                members[member_id] = {
                    (topic, partition) for topic, partitions in decoded.assignment for partition in partitions
                }
        return members

    return asyncio.run(describe())


@pytest.fixture
def second_replicas(system: System) -> Iterator[list[str]]:
    started: list[str] = []
    try:
        for name in CONSUMERS:
            system.stack.start_service(name, replica=2)
            started.append(f"{name}-2")
        yield started
    finally:
        for process in started:
            system.stack.stop_service(process)


def test_two_replicas_share_the_partitions_lose_and_duplicate_nothing_and_survive_a_replica_death(  # type: ignore[no-untyped-def]
    system: System,
    receiver: Receiver,
    partner_factory,
    personal_data: PersonalData,
    second_replicas: list[str],
) -> None:
    bootstrap = f"127.0.0.1:{system.stack.ports['kafka']}"

    # Each group has two members, and each holds part of every topic it reads.
    def shared(group: str) -> bool:
        members = group_assignment(bootstrap, group)
        return len(members) == 2 and all(members.values())

    every: dict[str, set[tuple[str, int]]] = {}
    for group in CONSUMERS:
        wait_until(lambda g=group: shared(g), timeout=90, what=f"{group}'s partitions shared by two replicas")
        held = list(group_assignment(bootstrap, group).values())
        assert not held[0] & held[1], f"{group}: a partition is held twice"
        every[group] = held[0] | held[1]

    partner = partner_factory()
    post = case_stream(system, partner, personal_data, f"scale-{partner.id}")

    # Under load, the second referral replica dies without a word (SIGKILL: offsets uncommitted).
    with ThreadPoolExecutor(max_workers=8) as pool:
        cases = list(pool.map(post, range(TOTAL // 2)))
        system.stack.kill_service("referral-2")
        cases += list(pool.map(post, range(TOTAL // 2, TOTAL)))

    # Its partitions move to the survivor: one member holding every partition the group reads.
    def taken_over() -> bool:
        members = group_assignment(bootstrap, "referral")
        return len(members) == 1 and next(iter(members.values())) == every["referral"]

    wait_until(taken_over, timeout=120, what="the dead replica's partitions taken over by the other")

    serious = {case for case, is_serious in cases if is_serious}
    mine = assert_notified_exactly_once(receiver, partner.id, serious)
    accept_all(system.urls["referral"], partner.token, mine)
