"""web reads a service's answer as its typed model (web.api): extra fields pass, an answer web cannot
read is the service's fault (a 502 naming the call), and what is logged names the field, never its
value, which may be a person's details."""

import logging
from typing import Any

import httpx
import pytest

from web.api import intake
from web.backends import Backends, Unreadable

CASE_ID = "7c1f0a3e-0000-4000-8000-000000000001"
HANDOFF = {"opens": True, "reason": None}


def _backends(answer: dict[str, Any]) -> Backends:
    backends = Backends(urls={"intake": "http://intake.test"})
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    backends._clients["intake"] = httpx.AsyncClient(base_url="http://intake.test", transport=transport)
    return backends


def _consultation(**changes: Any) -> dict[str, Any]:
    consultation = {
        "case_id": CASE_ID,
        "topic": "LONELY",
        "municipality_code": "131041",
        "severity": "S3",
        "lawful_basis": None,
        "recorded_at": "2026-05-03T03:00:00+00:00",
        "channel": "phone",
        "summary": "眠れない夜が続いている",
        "handoff": HANDOFF,
        "a_field_web_does_not_read": 1,
    }
    return consultation | changes


async def test_an_answer_with_fields_web_does_not_read_is_read_by_attribute() -> None:
    backends = _backends(_consultation())
    found = await backends.answer(intake.CONSULTATION, token="t", path={"consultation_id": CASE_ID})
    assert (found.case_id, found.handoff.opens, found.summary) == (CASE_ID, True, "眠れない夜が続いている")
    await backends.close()


async def test_an_answer_web_cannot_read_is_a_502_that_logs_the_field_and_never_the_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backends = _backends(_consultation(summary=["山田 花子 090-0000-0000"], handoff=None))
    with caplog.at_level(logging.WARNING, logger="web.backends"), pytest.raises(Unreadable) as raised:
        await backends.answer(intake.CONSULTATION, token="t", path={"consultation_id": CASE_ID})
    assert (raised.value.service, raised.value.status) == ("intake", 502)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert "summary" in caplog.text and "handoff" in caplog.text
    assert "山田" not in caplog.text and "090" not in caplog.text
    await backends.close()
