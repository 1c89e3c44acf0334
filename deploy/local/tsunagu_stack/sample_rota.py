"""The sample on-call rota: who notify pages in a newcomer's stack (their e-mail lands in the mail
sink). Seeded once: a rota an operator has edited is left alone."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any, Final

from tsunagu_stack.core import StackError, say, warn
from tsunagu_stack.probes import http_json, route_missing

# Japan time; the night shift ends the next morning. Sample names are marked as samples.
SAMPLE_SHIFTS: Final[tuple[dict[str, Any], ...]] = (
    {
        "kind": "weekly",
        "name": "【サンプル】日勤オペレーター",
        "email": "oncall-day@tsunagu.invalid",
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "starts": "09:00",
        "ends": "18:00",
    },
    {
        "kind": "weekly",
        "name": "【サンプル】夜間オペレーター",
        "email": "oncall-night@tsunagu.invalid",
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "starts": "18:00",
        "ends": "09:00",
    },
)


def seed_rota(url: Callable[[str], str], token: str) -> None:
    notify = url("notify")
    try:
        status, rota = http_json("GET", f"{notify}/v1/oncall", None, token)
        if route_missing(status, rota):
            warn(f"notify does not serve /v1/oncall yet (HTTP {status}); sample rota skipped")
            return
        if status != 200 or not isinstance(rota, dict) or rota.get("shifts"):
            return
        for shift in SAMPLE_SHIFTS:
            status, reply = http_json("POST", f"{notify}/v1/oncall/shifts", shift, token)
            if status != 201:
                warn(f"sample on-call shift not added: HTTP {status}: {str(reply)[:300]}")
                return
    except (OSError, http.client.HTTPException, StackError) as exc:
        warn(f"sample on-call rota not seeded: {exc}")
        return
    say(f"sample data: on-call rota of {len(SAMPLE_SHIFTS)} shifts (pages land in the mail sink)")
