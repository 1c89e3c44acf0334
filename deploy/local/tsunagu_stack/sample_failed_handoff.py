"""A sample failed handoff for the operators (and the counsellor's console) to act on: a fictional
S4 case recorded by the demo counsellor that every organisation offered it declines, so that
`make up` shows an exhausted referral at /ops with its "find an organisation" page. Skipped while
one such referral exists (exhausted, unmatched or handled elsewhere): safe to repeat."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from typing import Any, Final

from tsunagu_stack.core import say, warn
from tsunagu_stack.probes import http_json

MUNICIPALITY: Final = "472077"  # 石垣市: no sample organisation is local, the national lines are
WAIT_S: Final = 20.0
FAILED: Final = ("exhausted", "unmatched", "handled_elsewhere")


def seed_failed_handoff(url: Callable[[str], str], token: Callable[..., str]) -> None:
    """`token` is SecretStore.mint_token(role, subject, organisation_id=None)."""
    referral = url("referral")
    operator = token("operator", "stack-seed")
    try:
        status, counts = http_json("GET", f"{referral}/v1/reports/states", None, operator)
        if status != 200 or any(counts["by_state"].get(state) for state in FAILED):
            return
        body = {
            "channel": "phone",
            "topic": "LONELY",
            "municipality_code": MUNICIPALITY,
            "severity": "S4",
            "lawful_basis": "CONSENT",
            "summary": "【サンプル】架空の相談です。今夜ひとりでいるのがこわい、と話している。",
            "contact": {"name": "見本 太郎", "phone": "090-0000-0001", "address": "架空"},
        }
        # The demo counsellor's own case: their console shows that its handoff failed.
        counsellor = token("counsellor", "counsellor")
        status, reply = http_json("POST", f"{url('intake')}/v1/consultations", body, counsellor)
        if status not in (200, 201) or not isinstance(reply, dict):
            warn(f"sample failed handoff not recorded: HTTP {status}: {str(reply)[:200]}")
            return
        state = _decline_all(referral, str(reply["case_id"]), token)
    except (OSError, http.client.HTTPException, KeyError, TypeError) as exc:
        warn(f"sample failed handoff not made: {exc}")
        return
    if state in FAILED:
        say("sample data: a failed handoff to act on at /ops (every organisation declined it)")


def _decline_all(referral: str, case_id: str, token: Callable[..., str]) -> str:
    """Each organisation offered the case declines it ("not eligible": a "no capacity" decline
    would mark it full for every later case); the referral's state at the end."""
    operator = token("operator", "stack-seed")
    deadline = time.monotonic() + WAIT_S
    state = "requested"
    while time.monotonic() < deadline:
        status, found = http_json("GET", f"{referral}/v1/referrals?case_id={case_id}", None, operator)
        current: dict[str, Any] = found[0] if status == 200 and found else {}
        state = str(current.get("state", "requested"))
        if state in FAILED:
            return state
        if state in ("offered", "notified"):
            partner = token("partner", "stack-seed", organisation_id=str(current["organisation_id"]))
            path = f"{referral}/v1/referrals/{current['id']}/attempts/{current['attempt']}/decline"
            http_json("POST", path, {"reason": "not_eligible"}, partner)
        else:
            time.sleep(0.3)
    warn(f"the sample failed handoff is {state} after {WAIT_S:.0f} s")
    return state
