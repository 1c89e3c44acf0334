"""A consumer service stopped mid-stream — killed, or asked to stop — loses and duplicates nothing."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import Receiver, System
from support import PersonalData, consultation_body, wait_until

pytestmark = pytest.mark.e2e

TOTAL = 200


@pytest.mark.parametrize(
    ("victim", "how"),
    [("referral", "kill -9"), ("directory", "kill -9"), ("notify", "SIGTERM")],
)
def test_every_serious_case_is_notified_exactly_once_across_a_stop_mid_stream(  # type: ignore[no-untyped-def]
    system: System,
    receiver: Receiver,
    partner_factory,
    personal_data: PersonalData,
    victim: str,
    how: str,
) -> None:
    partner = partner_factory()
    token = system.tokens["counsellor"]

    def post(i: int) -> tuple[str, bool]:
        serious = i % 2 == 0
        body = consultation_body(personal_data, partner.municipality_code, severity="S3" if serious else "S1")
        response = httpx.post(
            f"{system.urls['intake']}/v1/consultations",
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": f"crash-{victim}-{i}-{partner.id}",
            },
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()["case_id"], serious

    cases: list[tuple[str, bool]] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        first_half = list(pool.map(post, range(TOTAL // 2)))
        cases += first_half
        if how == "kill -9":
            system.stack.kill_service(victim)  # no graceful shutdown: offsets not committed
        else:
            system.stack.stop_service(victim)  # SIGTERM: in-flight work finishes, then it exits
        cases += list(pool.map(post, range(TOTAL // 2, TOTAL)))
    time.sleep(0.5)
    system.stack.start_service(victim)

    serious = {case for case, is_serious in cases if is_serious}
    quiet = {case for case, is_serious in cases if not is_serious}

    def delivered() -> set[str]:
        with receiver.lock:
            return {r.json["case_id"] for r in receiver.receipts if r.organisation_id == partner.id}

    # Recovery includes the session timeout of the killed consumer and a rebalance, on two cores.
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
    assert not quiet & set(per_case)

    # The partner accepts them, as it would: left open, they would expire and escalate while the
    # tests after this one run, loading the machine they share.
    def accept(receipt_json: dict[str, object]) -> int:
        return httpx.post(
            f"{system.urls['referral']}/v1/referrals/{receipt_json['referral_id']}"
            f"/attempts/{receipt_json['attempt']}/acknowledge",
            headers={"Authorization": f"Bearer {partner.token}"},
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(accept, [r.json for r in mine])) == {200}
