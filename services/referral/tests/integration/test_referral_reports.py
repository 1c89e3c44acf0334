"""The operators' reports over a real database: referrals seeded at known instants and moved through
the real API (accept, decline, outcomes, withdraw), then the aggregates read back over HTTP —
medians and 90th percentiles (PostgreSQL's percentile_cont), rates, outcomes, the Japan-date period
bounds — and the dashboard's uncapped counts."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from contracts.hours import JST
from contracts.vocabulary import Severity
from eventkit.auth import generate_signing_keypair
from eventkit.clock import MovableClock
from eventkit.testing import bearer
from referral.lifecycle import service
from referral.lifecycle.domain import Referral
from referral.lifecycle.facts import Unmatched
from referral.lifecycle.service import Lifecycle
from referral.lifecycle.states import ReferralState

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
APRIL = {"from": "2026-04-01", "to": "2026-04-30"}
# 10:00 on 10 April in Japan: the day most of the period's referrals are opened.
T = datetime(2026, 4, 10, 10, 0, tzinfo=JST)
PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()


@dataclass
class Api:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    key: str
    clock: MovableClock
    lifecycle: Lifecycle

    def headers(self, role: str, organisation_id: uuid.UUID | None = None) -> dict[str, str]:
        return bearer(self.key, role, organisation_id)

    async def report(self, role: str = "operator", **params: str) -> httpx.Response:
        return await self.client.get("/v1/reports/handoffs", params=params, headers=self.headers(role))

    async def as_partner(self, org: uuid.UUID, path: str, body: dict[str, Any] | None = None) -> None:
        response = await self.client.post(path, json=body or {}, headers=self.headers("partner", org))
        assert response.status_code == 200, response.text

    async def opened(self, seed: Any, at: datetime, *offered_to: uuid.UUID, **options: Any) -> Referral:
        self.clock.set(at)
        referral: Referral = await seed(self.pool, offered_to=offered_to, lifecycle=self.lifecycle, **options)
        return referral

    async def accepted(self, referral: Referral, org: uuid.UUID, attempt: int, after_s: float) -> None:
        self.clock.set(referral.created_at + timedelta(seconds=after_s))
        await self.as_partner(org, f"/v1/referrals/{referral.id}/attempts/{attempt}/acknowledge")

    async def declined(self, referral: Referral, org: uuid.UUID, attempt: int, after_s: float) -> None:
        self.clock.set(referral.created_at + timedelta(seconds=after_s))
        path = f"/v1/referrals/{referral.id}/attempts/{attempt}/decline"
        await self.as_partner(org, path, {"reason": "no_capacity"})

    async def outcome(self, referral: Referral, org: uuid.UUID, **body: str) -> None:
        await self.as_partner(org, f"/v1/referrals/{referral.id}/outcome", body)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(T)


@pytest.fixture
def auth_public_key() -> str:
    return PUBLIC_KEY


@pytest.fixture
def api(client: httpx.AsyncClient, pool: asyncpg.Pool, clock: MovableClock, lifecycle: Lifecycle) -> Api:
    """The real app (conftest's `client`, none of its loops) over a real database; the clock
    starts at T."""
    return Api(client, pool, PRIVATE_KEY, clock, lifecycle)


async def _april(api: Api, seed: Any) -> None:
    """April's referrals (and three just outside it), with the times the assertions below expect."""
    # Five S3 cases in 東京都 accepted by A after 1, 2, 3, 4 and 10 minutes.
    s3 = [await api.opened(seed, T + timedelta(hours=i), A) for i in range(5)]
    for referral, after in zip(s3, (60, 120, 180, 240, 600), strict=True):
        await api.accepted(referral, A, 1, after)
    # S4: A declines after 100 s, B accepts 60 s later (a second organisation was needed) …
    second = await api.opened(seed, T + timedelta(days=1), A, B, severity=Severity.S4)
    await api.declined(second, A, 1, 100)
    await api.accepted(second, B, 2, 160)
    # … and A and B decline, C accepts 30 s after its own offer (a third one).
    third = await api.opened(seed, T + timedelta(days=2), A, B, C, severity=Severity.S4)
    await api.declined(third, A, 1, 30)
    await api.declined(third, B, 2, 60)
    await api.accepted(third, C, 3, 90)
    # S3 whose only candidate declines: exhausted.
    exhausted = await api.opened(seed, T + timedelta(days=3), A)
    await api.declined(exhausted, A, 1, 50)
    # Nobody could be found.
    nobody = await api.opened(seed, T + timedelta(days=4))
    async with api.pool.acquire() as conn:
        await service.record_fact(
            conn,
            referral_id=nobody.id,
            case_id=nobody.case_id,
            fact=Unmatched(reasons=("no_candidate",), at=api.clock()),
            actor="directory",
            event_id=uuid.uuid4(),
            lifecycle=api.lifecycle,
        )
    # S2 in 大阪府, accepted by B after 5 minutes.
    osaka = await api.opened(seed, T + timedelta(days=5), B, severity=Severity.S2)
    async with api.pool.acquire() as conn:
        await conn.execute("UPDATE referrals SET municipality_code = '271004' WHERE id = $1", osaka.id)
    await api.accepted(osaka, B, 1, 300)
    # Withdrawn by the counsellor while offered.
    withdrawn = await api.opened(seed, T + timedelta(days=6), C)
    response = await api.client.post(
        f"/v1/referrals/{withdrawn.id}/withdraw",
        json={"reason": "duplicate"},
        headers=api.headers("counsellor"),
    )
    assert response.status_code == 200, response.text
    # The last second of 30 April in Japan is April's; the first of 1 May and the last of 31 March
    # (each accepted at once) are not.
    await api.opened(seed, datetime(2026, 4, 30, 23, 59, 59, tzinfo=JST), C, severity=Severity.S2)
    for outside in (datetime(2026, 5, 1, tzinfo=JST), datetime(2026, 3, 31, 23, 59, 59, tzinfo=JST)):
        early = await api.opened(seed, outside, A)
        await api.accepted(early, A, 1, 5)
        await api.outcome(early, A, stage="contacted")
    # What the partners did next.
    first, second_case = s3[0], s3[1]
    await api.outcome(first, A, stage="contacted")
    await api.outcome(first, A, stage="accompanied", accompanied_to="hospital")
    await api.outcome(first, A, stage="accompanied", accompanied_to="police")
    await api.outcome(first, A, stage="closed", outcome="supported")
    await api.outcome(second_case, A, stage="contacted")
    await api.outcome(second_case, A, stage="closed", outcome="referred_on")
    await api.outcome(second, B, stage="closed", outcome="person_declined")


def _times(rows: list[dict[str, Any]]) -> dict[str, tuple[int, float, float]]:
    return {row["key"]: (row["count"], row["median_s"], row["p90_s"]) for row in rows}


async def test_time_to_acceptance_is_a_median_and_90th_percentile_by_severity_prefecture_and_organisation(
    api: Api, seed: Any
) -> None:
    await _april(api, seed)
    response = await api.report(**APRIL)
    assert response.status_code == 200, response.text
    acknowledgement = response.json()["acknowledgement"]
    # From the referral's opening: 60 90 120 160 180 240 300 600 seconds.
    overall = acknowledgement["overall"]
    assert (overall["count"], overall["median_s"], overall["p90_s"]) == (8, 170.0, pytest.approx(390.0))
    # Most urgent first; the 90th percentile interpolates as percentile_cont does.
    assert [row["key"] for row in acknowledgement["by_severity"]] == ["S4", "S3", "S2"]
    assert _times(acknowledgement["by_severity"]) == {
        "S4": (2, 125.0, pytest.approx(153.0)),
        "S3": (5, 180.0, pytest.approx(456.0)),
        "S2": (1, 300.0, 300.0),
    }
    assert _times(acknowledgement["by_prefecture"]) == {
        "13": (7, 160.0, pytest.approx(384.0)),
        "27": (1, 300.0, 300.0),
    }
    # An organisation is timed from its own offer: B took 60 s on the case A had declined.
    assert [row["key"] for row in acknowledgement["by_organisation"]] == [str(A), str(B), str(C)]
    assert _times(acknowledgement["by_organisation"]) == {
        str(A): (5, 180.0, pytest.approx(456.0)),
        str(B): (2, 180.0, pytest.approx(276.0)),
        str(C): (1, 30.0, 30.0),
    }


async def test_the_report_counts_second_and_third_organisations_and_the_exhausted_rate(
    api: Api, seed: Any
) -> None:
    await _april(api, seed)
    body = (await api.report(**APRIL)).json()
    assert body["totals"] == {
        "opened": 12,
        "offered": 11,
        "acknowledged": 8,
        "exhausted": 1,
        "unmatched": 1,
        "withdrawn": 1,
        "exhausted_rate": pytest.approx(1 / 11),
    }
    needed = body["organisations_needed"]
    assert needed["distribution"] == [
        {"organisations": 1, "referrals": 9},
        {"organisations": 2, "referrals": 1},
        {"organisations": 3, "referrals": 1},
    ]
    assert (needed["offered"], needed["second"], needed["third"]) == (11, 2, 1)
    assert needed["second_rate"] == pytest.approx(2 / 11)
    assert needed["third_rate"] == pytest.approx(1 / 11)


async def test_the_report_counts_interviews_accompaniments_by_destination_and_closing_codes(
    api: Api, seed: Any
) -> None:
    await _april(api, seed)
    outcomes = (await api.report(**APRIL)).json()["outcomes"]
    assert outcomes["contacted"] == 2
    # Every known code is listed, in its own order, 0 when never recorded.
    assert outcomes["accompanied"] == [
        {"code": "hospital", "times": 1, "referrals": 1},
        {"code": "police", "times": 1, "referrals": 1},
        {"code": "welfare_office", "times": 0, "referrals": 0},
        {"code": "other", "times": 0, "referrals": 0},
    ]
    assert {row["code"]: row["referrals"] for row in outcomes["closed"]} == {
        "supported": 1,
        "referred_on": 1,
        "person_declined": 1,
        "could_not_reach": 0,
        "other": 0,
    }


async def test_the_period_is_japan_dates_with_both_ends_included(api: Api, seed: Any) -> None:
    await _april(api, seed)
    body = (await api.report(**{"from": "2026-05-01", "to": "2026-05-01"})).json()
    assert body["period"] == {
        "from": "2026-05-01",
        "to": "2026-05-01",
        "starts_at": "2026-05-01T00:00:00+09:00",
        "ends_at": "2026-05-02T00:00:00+09:00",
        "time_zone": "Asia/Tokyo",
    }
    assert (body["totals"]["opened"], body["acknowledgement"]["overall"]["count"]) == (1, 1)
    assert body["outcomes"]["contacted"] == 1
    last_day = (await api.report(**{"from": "2026-04-30", "to": "2026-04-30"})).json()
    assert (last_day["totals"]["opened"], last_day["totals"]["acknowledged"]) == (1, 0)


async def test_an_empty_period_reports_zeros_and_no_times(api: Api) -> None:
    body = (await api.report(**{"from": "2020-01-01", "to": "2020-12-31"})).json()
    assert body["totals"]["opened"] == 0
    assert body["totals"]["exhausted_rate"] is None
    assert body["acknowledgement"]["overall"] == {"key": "all", "count": 0, "median_s": None, "p90_s": None}
    assert [row["count"] for row in body["acknowledgement"]["by_severity"]] == [0, 0, 0]
    assert body["acknowledgement"]["by_organisation"] == []
    assert body["organisations_needed"]["second_rate"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-04-30", "to": "2026-04-01"}, "query.to"),
        ({"from": "2025-01-01", "to": "2026-04-01"}, "query.to"),
        ({"from": "2026-02-30", "to": "2026-04-01"}, "query.from"),
        ({"to": "2026-04-01"}, "query.from"),
    ],
)
async def test_a_period_that_cannot_be_reported_is_a_422_naming_the_field(
    api: Api, params: dict[str, str], field: str
) -> None:
    response = await api.report(**params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"][0]["field"] == field


async def test_only_operators_read_reports(api: Api) -> None:
    assert (await api.report("counsellor", **APRIL)).status_code == 403
    partner = await api.client.get("/v1/reports/handoffs", params=APRIL, headers=api.headers("partner", A))
    assert partner.status_code == 403
    assert (await api.client.get("/v1/reports/handoffs", params=APRIL)).status_code == 401
    assert (await api.client.get("/v1/reports/states", headers=api.headers("counsellor"))).status_code == 403


async def test_the_dashboard_counts_every_referral_in_a_state_without_a_cap(api: Api, seed: Any) -> None:
    now = datetime.now(UTC)
    await api.opened(seed, now, A)
    await api.opened(seed, now, B)
    # Its S3 deadline (30 minutes) passed an hour ago.
    await api.opened(seed, now - timedelta(hours=1, minutes=30), C)
    api.clock.set(now)
    async with api.pool.acquire() as conn:
        # 205 exhausted referrals: more than any list an operator's screen would page through.
        await conn.execute(
            """INSERT INTO referrals (id, case_id, state, topic, municipality_code, severity, lawful_basis,
                                      need_tags, age_band, gender, language)
               SELECT gen_random_uuid(), gen_random_uuid(), 'exhausted', 'LONELY', '131016', 'S3',
                      'CONSENT', '{}', 'unknown', 'unknown', 'ja'
                 FROM generate_series(1, 205)"""
        )
    response = await api.client.get("/v1/reports/states", headers=api.headers("operator"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["by_state"]["exhausted"] == 205
    assert body["by_state"]["offered"] == 3
    assert body["by_state"]["closed"] == 0  # every state is named, also when none is in it
    assert set(body["by_state"]) == {state.value for state in ReferralState}
    assert body["overdue"] == 1
    assert body["needing_attention"] == 205 + 1
