"""Helpers the end-to-end tests share (fixtures live in conftest.py)."""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.municipality import check_digit


def fresh_municipality_code() -> str:
    """A code with a valid check digit that no sample organisation covers (prefecture 47, 9xx)."""
    body = f"47{900 + int.from_bytes(os.urandom(1)) % 99:03d}"
    return body + str(check_digit(body))


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


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:.0f}s")
        time.sleep(0.1)
