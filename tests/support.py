"""Helpers the end-to-end tests share (fixtures live in conftest.py)."""

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from contracts.municipality import Kind, register

# Real municipalities of 鹿児島県 and 沖縄県 (the directory refuses codes nobody lives under),
# handed out in a random order and each at most once per session, so two partners of one test
# never share an area by chance. The scenario suite keeps out of these two prefectures.
FRESH_PREFECTURES = ("46", "47")
_FRESH_CODES: list[str] = []


def _refill_fresh_codes() -> None:
    _FRESH_CODES.extend(
        m.code
        for m in register().municipalities.values()
        if m.prefecture_code in FRESH_PREFECTURES and m.kind is not Kind.DESIGNATED_CITY
    )
    random.SystemRandom().shuffle(_FRESH_CODES)


def fresh_municipality_code(taken: Callable[[str], bool] | None = None) -> str:
    """A real municipality that no organisation covers directly, unused so far this session.

    `taken` says whether a code is already someone's (e.g. an organisation a stopped run left behind
    on the reused stack): such codes are passed over. Only when every code was handed out does the
    pool start again, still passing over the taken ones.
    """
    for _ in range(2):
        if not _FRESH_CODES:
            _refill_fresh_codes()
        while _FRESH_CODES:
            code = _FRESH_CODES.pop()
            if taken is None or not taken(code):
                return code
    raise AssertionError("every municipality of 鹿児島県 and 沖縄県 is covered by an active organisation")


@dataclass(frozen=True)
class PersonalData:
    """Values that must never leave intake: searched for on every topic and span at the end."""

    name: str
    phone: str
    address: str
    summary: str

    def all(self) -> tuple[str, ...]:
        return (self.name, self.phone, self.address, self.summary)


def consultation_body(
    personal_data: PersonalData, municipality_code: str, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "phone",
        "topic": "LONELY",
        "municipality_code": municipality_code,
        "severity": "S3",
        "lawful_basis": "CONSENT",
        "summary": personal_data.summary,
        "contact": {
            "name": personal_data.name,
            "phone": personal_data.phone,
            "address": personal_data.address,
        },
    }
    body.update(overrides)
    return body


def case_stream(
    system: Any, partner: Any, personal_data: PersonalData, key_prefix: str
) -> Callable[[int], tuple[str, bool]]:
    """`record(i)` records, as a counsellor, the `i`th consultation of a stream in `partner`'s
    municipality in which every other case is serious (S3, the rest S1), and answers its case id
    and whether it is serious."""
    intake_url, token = system.urls["intake"], system.tokens["counsellor"]

    def record(i: int) -> tuple[str, bool]:
        serious = i % 2 == 0
        body = consultation_body(personal_data, partner.municipality_code, severity="S3" if serious else "S1")
        response = httpx.post(
            f"{intake_url}/v1/consultations",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"{key_prefix}-{i}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()["case_id"], serious

    return record


# What a busy machine answers now and then while the services keep running (a refused or dropped
# connection, a timeout, a 5xx a predicate raised for): not a verdict, a reason to ask again.
TRANSIENT = (httpx.TransportError, httpx.HTTPStatusError)


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Polls `predicate` until it is true; a predicate's HTTP call that fails in transit counts as "not yet"."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if predicate():
                return
        except TRANSIENT as error:
            last_error = error
        if time.monotonic() > deadline:
            because = f" (last transient error: {last_error!r})" if last_error else ""
            raise AssertionError(f"{what} not reached within {timeout:.0f}s{because}")
        time.sleep(0.1)


def trace_services(zipkin: str, trace_id: str) -> set[str]:
    """The services that have exported spans of a trace to the trace backend so far."""
    response = httpx.get(f"{zipkin}/api/v2/trace/{trace_id}", timeout=15)
    spans: list[dict[str, Any]] = response.json() if response.status_code == 200 else []
    return {str(span.get("localEndpoint", {}).get("serviceName")) for span in spans}


def assert_notified_exactly_once(receiver: Any, organisation_id: str, serious: set[str]) -> list[Any]:
    """Wait until every serious case has reached the partner's receiver, then check that each did
    exactly once, signed, and that no other case did; the partner's receipts."""

    def delivered() -> set[str]:
        with receiver.lock:
            return {r.json["case_id"] for r in receiver.receipts if r.organisation_id == organisation_id}

    # Recovery may include a killed consumer's session timeout and a rebalance, on two cores.
    wait_until(lambda: serious <= delivered(), timeout=150, what=f"all {len(serious)} serious cases notified")
    time.sleep(2.0)  # room for a duplicate to show itself
    with receiver.lock:
        mine = [r for r in receiver.receipts if r.organisation_id == organisation_id]
    per_case: dict[str, int] = {}
    for receipt in mine:
        per_case[receipt.json["case_id"]] = per_case.get(receipt.json["case_id"], 0) + 1
    assert set(per_case) == serious, "a non-serious case was notified, or a serious one was lost"
    assert all(count == 1 for count in per_case.values()), {c: n for c, n in per_case.items() if n > 1}
    assert all(r.signature_ok for r in mine)
    return mine


def accept_all(referral_url: str, partner_token: str, receipts: list[Any]) -> None:
    """The partner accepts every offer, as it would: left open, they would expire and escalate
    while the tests after this one run, loading the machine they share."""

    def accept(offer: dict[str, Any]) -> int:
        return httpx.post(
            f"{referral_url}/v1/referrals/{offer['referral_id']}/attempts/{offer['attempt']}/acknowledge",
            headers={"Authorization": f"Bearer {partner_token}"},
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(accept, [r.json for r in receipts])) == {200}


def axe_violations(page: Any) -> list[str]:
    """axe-core's critical and serious violations on a Playwright page, as 'rule (impact): nodes'."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        pytest.fail("axe-core is missing: pip install axe-playwright-python (it bundles axe.min.js)")
    # Through CDP, not a <script> tag: the screens' CSP allows no inline script, rightly.
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in ("critical", "serious")
    ]
