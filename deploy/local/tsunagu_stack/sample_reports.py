"""Sample handoffs for the operators' reports: a few fictional consultations recorded through intake,
then answered through referral's partner API as the matched partners would (accepted, or declined so
that a second organisation is asked, then 面談, 同行支援 and closing), so that `make up` shows a
report with data in it. Skipped once any handoff has been accepted: safe to repeat."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from typing import Any, Final

from tsunagu_stack.core import say, warn
from tsunagu_stack.probes import http_json

# (municipality, severity, what the partners do): "decline" passes to the next organisation.
PLAN: Final = (
    ("131041", "S3", ("accept", "contacted", "accompanied:welfare_office", "closed:supported")),
    ("131016", "S4", ("decline", "accept", "contacted", "closed:referred_on")),
    ("271004", "S3", ("accept", "contacted", "accompanied:hospital")),
    ("011002", "S2", ("accept", "closed:could_not_reach")),
    ("401307", "S3", ("decline", "accept", "contacted", "closed:supported")),
)
WAIT_S: Final = 20.0


class SampleHandoffs:
    def __init__(self, url: Callable[[str], str], token: Callable[..., str]) -> None:
        self.url = url
        self.token = token  # SecretStore.mint_token(role, subject, organisation_id=None)

    def seed(self) -> None:
        operator = self.token("operator", "stack-seed")
        try:
            status, counts = http_json("GET", f"{self.url('referral')}/v1/reports/states", None, operator)
            if status != 200:
                warn(f"referral has no report counts yet (HTTP {status}); sample handoffs not made")
                return
            answered = ("acknowledged", "contacted", "accompanied", "closed")
            if any(counts["by_state"].get(state) for state in answered):
                return
            done = sum(self._handoff(code, severity, steps) for code, severity, steps in PLAN)
        except (OSError, http.client.HTTPException, KeyError, TypeError) as exc:
            warn(f"sample handoffs not made: {exc}")
            return
        say(f"sample data: {done} handoffs answered by partners (for the reports at /ops/reports)")

    def _handoff(self, municipality_code: str, severity: str, steps: tuple[str, ...]) -> bool:
        body = {
            "channel": "phone",
            "topic": "LONELY",
            "municipality_code": municipality_code,
            "severity": severity,
            "lawful_basis": "CONSENT",
            "summary": "【サンプル】架空の相談です。",
            "contact": {"name": "見本 花子", "phone": "090-0000-0000", "address": "架空"},
        }
        counsellor = self.token("counsellor", "stack-seed")
        status, reply = http_json("POST", f"{self.url('intake')}/v1/consultations", body, counsellor)
        if status not in (200, 201, 202) or not isinstance(reply, dict):
            warn(f"sample consultation not recorded: HTTP {status}: {str(reply)[:200]}")
            return False
        referral_id = self._referral_of(str(reply["case_id"]))
        if referral_id is None:
            return False
        base = f"{self.url('referral')}/v1/referrals/{referral_id}"
        organisation_id = ""
        for step in steps:
            kind, _, code = step.partition(":")
            if kind in ("accept", "decline"):
                attempt = self._open_attempt(base)
                if attempt is None:
                    return False  # nobody (else) was found: an exhausted sample, which also counts
                organisation_id = str(attempt["organisation_id"])
                action = f"attempts/{attempt['attempt']}/" + (
                    "acknowledge" if kind == "accept" else "decline"
                )
                # "not eligible", not "no capacity": that one marks the organisation full, and the
                # sample's national lines would then turn away every newcomer's first cases.
                payload: dict[str, str] = {} if kind == "accept" else {"reason": "not_eligible"}
            else:
                action, payload = "outcome", {"stage": kind}
                if code:
                    payload["accompanied_to" if kind == "accompanied" else "outcome"] = code
            partner = self.token("partner", "stack-seed", organisation_id=organisation_id)
            status, _ = http_json("POST", f"{base}/{action}", payload, partner)
            if status != 200:
                warn(f"sample handoff step {step} → HTTP {status}")
                return False
        return True

    def _referral_of(self, case_id: str) -> str | None:
        operator = self.token("operator", "stack-seed")
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            status, found = http_json(
                "GET", f"{self.url('referral')}/v1/referrals?case_id={case_id}", None, operator
            )
            if status == 200 and found:
                return str(found[0]["id"])
            time.sleep(0.3)
        warn(f"no referral opened for the sample case within {WAIT_S:.0f} s")
        return None

    def _open_attempt(self, base: str) -> dict[str, Any] | None:
        """The attempt now waiting for its organisation's answer, once referral has made it."""
        operator = self.token("operator", "stack-seed")
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            status, referral = http_json("GET", base, None, operator)
            if status == 200:
                if referral["state"] in ("exhausted", "unmatched"):
                    return None
                for attempt in referral["attempts"]:
                    if attempt["state"] in ("offered", "notified"):
                        return dict(attempt)
            time.sleep(0.3)
        return None
