"""Scenarios through the real pipeline: a counsellor records each case over HTTP; intake, referral,
directory and notify hand it on through Kafka; the organisation offered first is the one a
counsellor would choose — and the one the directory's dry run names for the same case.

The directory runs at each scenario's moment (`DIRECTORY_CLOCK_START`), so holidays, the year-end
closure and the night are the real ones. Each referral is withdrawn once its first offer is seen,
so that no scenario escalates into the next.
"""

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from conftest import Receiver, System
from scenarios.scenario_cases import SCENARIOS, Scenario
from scenarios.scenario_directory import ORGANISATIONS, bodies, organisation_id
from support import wait_until

pytestmark = pytest.mark.e2e

# The dry run's inputs, exactly as the consultation gives them to the real path.
MATCHING_INPUTS = ("topic", "municipality_code", "severity", "need_tags", "age_band", "gender", "language")
# Grouped by moment, so that the directory restarts once per moment.
ORDERED = sorted(SCENARIOS, key=lambda s: s.at)


@pytest.fixture(scope="module")
def directory_ids(system: System, receiver: Receiver) -> Iterator[dict[str, str]]:
    """The scenario organisations registered beside the sample directory; key or name → id."""
    system.stack.seed_sample_data()
    ids = {key: organisation_id(key) for key in ORGANISATIONS}
    with system.client("directory") as directory, system.client("notify") as notify:
        for org_id, body in bodies(receiver.url).items():
            response = directory.put(f"/v1/organisations/{org_id}", json=body)
            assert response.status_code in (200, 201), response.text
            secret = notify.post(f"/v1/partners/{org_id}/webhook-secret")
            assert secret.status_code == 201, secret.text
            receiver.secrets[org_id] = secret.json()["secret"]
        for name in {s.first for s in SCENARIOS if s.first not in ORGANISATIONS}:
            found = directory.get("/v1/organizations", params={"search": name, "per_page": 5}).json()
            ids[name] = next(o["id"] for o in found["contents"] if o["name"] == name)
    yield ids
    with system.client("directory") as directory:
        for org_id in bodies(receiver.url):
            directory.delete(f"/v1/organisations/{org_id}")


@pytest.fixture(scope="module")
def directory_at(system: System) -> Iterator[Callable[[datetime], None]]:
    """Restarts the directory so that it matches as if it were `at` (only when `at` changes)."""
    current: list[datetime] = []

    def run_at(at: datetime) -> None:
        if current and current[0] == at:
            return
        system.stack.stop_service("directory")
        system.stack.start_service("directory", {"DIRECTORY_CLOCK_START": at.isoformat()})
        current[:] = [at]

    yield run_at
    system.stack.stop_service("directory")
    system.stack.start_service("directory")


def _first_offer(system: System, case_id: str) -> tuple[str, str]:
    """(referral id, the organisation of attempt 1), as referral recorded it."""
    found: dict[str, Any] = {}
    with system.client("referral", "counsellor") as referral:

        def offered() -> bool:
            summaries = referral.get("/v1/referrals", params={"case_id": case_id}).json()
            if not summaries or summaries[0]["attempt"] < 1:
                return False
            found.update(referral.get(f"/v1/referrals/{summaries[0]['id']}").json())
            return True

        wait_until(offered, timeout=60, what=f"the first offer of case {case_id}")
    first = next(a for a in found["attempts"] if a["attempt"] == 1)
    return found["id"], first["organisation_id"]


@pytest.mark.parametrize("scenario", ORDERED, ids=[s.name for s in ORDERED])
def test_the_organisation_offered_first_is_the_right_one_and_the_dry_runs_first_choice(
    scenario: Scenario,
    system: System,
    receiver: Receiver,
    directory_ids: dict[str, str],
    directory_at: Callable[[datetime], None],
) -> None:
    directory_at(scenario.at)
    expected = directory_ids[scenario.first]
    body = scenario.body()

    with system.client("intake", "counsellor") as intake:
        response = intake.post("/v1/consultations", json=body)
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]
    referral_id, offered_first = _first_offer(system, case_id)
    with system.client("directory", "counsellor") as directory:
        needs = {name: body[name] for name in MATCHING_INPUTS}
        dry_run = directory.post("/v1/match", json=needs | {"at": scenario.at.isoformat()}).json()
    with system.client("referral", "counsellor") as referral:
        referral.post(f"/v1/referrals/{referral_id}/withdraw", json={"reason": "other"})

    ranking = [f"{c['name']} {c['reasons']}" for c in dry_run["candidates"][:4]]
    assert offered_first == expected, f"{scenario.name}: {scenario.why}; the dry run ranked {ranking}"
    assert dry_run["chosen_organisation_id"] == offered_first, ranking
    if scenario.first in ORGANISATIONS:
        # Through to the partner's own endpoint: signed, and the first alert of the case is theirs.
        receiver.wait_for(lambda: bool(receiver.for_case(case_id)), timeout=30)
        receipt = receiver.for_case(case_id)[0]
        assert (receipt.organisation_id, receipt.json["attempt"], receipt.signature_ok) == (expected, 1, True)


def test_the_scenarios_cover_what_the_issue_asks_for() -> None:
    tags = set(itertools.chain.from_iterable(s.case.get("need_tags", ()) for s in SCENARIOS))
    languages = {s.case.get("language", "ja") for s in SCENARIOS}
    assert len(SCENARIOS) >= 30
    assert {"DV", "CHILD", "HIK", "HOU", "DIS", "FRN", "SUI", "SOGI"} <= tags
    assert {"vi", "pt", "en", "zh"} <= languages
    assert {s.at.hour for s in SCENARIOS} & {2}  # the night
    assert {s.at.date().isoformat() for s in SCENARIOS} >= {"2027-05-03", "2026-12-31"}  # holiday, 年末
