"""A consumer service stopped mid-stream — killed, or asked to stop — loses and duplicates nothing."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import Receiver, System
from support import PersonalData, accept_all, assert_notified_exactly_once, consultation_body

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
    mine = assert_notified_exactly_once(receiver, partner.id, serious)
    accept_all(system.urls["referral"], partner.token, mine)
