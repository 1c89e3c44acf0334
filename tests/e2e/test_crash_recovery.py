"""A consumer service stopped mid-stream — killed, or asked to stop — loses and duplicates nothing."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import Receiver, System
from support import PersonalData, accept_all, assert_notified_exactly_once, case_stream

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
    post = case_stream(system, partner, personal_data, f"crash-{victim}-{partner.id}")

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
