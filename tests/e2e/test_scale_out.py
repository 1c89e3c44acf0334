"""Two replicas per consumer service (`make up REPLICAS=2`): Kafka shares each group's partitions
between them, nothing is lost or duplicated under load, and a replica's death hands its partitions
to the other."""

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from conftest import Receiver, System
from support import PersonalData, consultation_body, wait_until

pytestmark = pytest.mark.e2e

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
    token = system.tokens["counsellor"]

    def post(i: int) -> tuple[str, bool]:
        serious = i % 2 == 0
        body = consultation_body(personal_data, partner.municipality_code, severity="S3" if serious else "S1")
        response = httpx.post(
            f"{system.urls['intake']}/v1/consultations",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"scale-{i}-{partner.id}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()["case_id"], serious

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

    def delivered() -> set[str]:
        with receiver.lock:
            return {r.json["case_id"] for r in receiver.receipts if r.organisation_id == partner.id}

    wait_until(lambda: serious <= delivered(), timeout=150, what=f"all {len(serious)} serious cases notified")
    time.sleep(2.0)
    with receiver.lock:
        mine = [r for r in receiver.receipts if r.organisation_id == partner.id]
    per_case: dict[str, int] = {}
    for receipt in mine:
        per_case[receipt.json["case_id"]] = per_case.get(receipt.json["case_id"], 0) + 1
    assert set(per_case) == serious, "a non-serious case was notified, or a serious one was lost"
    assert all(count == 1 for count in per_case.values()), {c: n for c, n in per_case.items() if n > 1}
    assert all(r.signature_ok for r in mine)

    # Accepted, so that nothing expires and escalates under the tests that follow.
    def accept(receipt_json: dict[str, object]) -> int:
        return httpx.post(
            f"{system.urls['referral']}/v1/referrals/{receipt_json['referral_id']}"
            f"/attempts/{receipt_json['attempt']}/acknowledge",
            headers={"Authorization": f"Bearer {partner.token}"},
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(accept, [r.json for r in mine])) == {200}
