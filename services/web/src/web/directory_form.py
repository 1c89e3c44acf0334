"""The organisation form of the directory screen: its vocabularies, and the conversions between the
register's record, the form's values and the body the register's PUT/POST takes. Pure.

The form edits the organisation and its main service (the one sharing its id): coverage, topics,
capabilities, eligibility, weekly hours (Japan time) and the channels handoffs reach it by.
"""

import re
from collections.abc import Mapping
from typing import Any

from web.api.directory import OrganisationRecord, ServiceRecord

ORG_TYPES = (
    "SHAKYO",
    "JIRITSU",
    "WELFARE_OFFICE",
    "HOUKATSU",
    "MHWC",
    "HOKENJO",
    "HIKIKOMORI",
    "SAPOSTE",
    "DV_CENTER",
    "WOMEN_CENTER",
    "ONESTOP_SV",
    "CHILD_GUIDANCE",
    "KODOMO_KATEI",
    "DISABILITY",
    "TEICHAKU",
    "LEGAL",
    "HELLOWORK",
    "NPO",
)
CAPABILITIES = (
    "INTERVIEW",
    "ACCOMPANY",
    "OUTREACH",
    "SHELTER",
    "FOOD",
    "CASH",
    "HOUSING",
    "JOB",
    "MEDICAL_LINK",
    "LEGAL",
    "MULTILINGUAL",
)
CHANNELS = ("portal", "email", "webhook")
RESIDENCIES = ("any", "resident", "resident_or_commuter")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HOURS_ROWS = 3
_TEXT_FIELDS = (
    "name",
    "alternate_name",
    "org_type",
    "corporate_number",
    "description",
    "website",
    "email",
    "webhook_url",
    "portal_url",
    "phone",
    "residency",
    "minimum_age",
    "maximum_age",
)
_LIST_FIELDS = ("topics", "capabilities", "genders", "channels")
_SEPARATORS = re.compile(r"[\s,、,]+")


FormData = Mapping[str, list[str]]  # each field's values, as posted


def _one(form: FormData, key: str) -> str:
    return (form.get(key) or [""])[0].strip()


def blank_values() -> dict[str, Any]:
    values: dict[str, Any] = {k: "" for k in _TEXT_FIELDS}
    values |= {k: [] for k in _LIST_FIELDS}
    values |= {"org_type": "NPO", "residency": "any", "coverage": "", "languages": "ja", "active": True}
    values["hours"] = [{"days": [], "opens": "", "closes": ""} for _ in range(HOURS_ROWS)]
    return values


def _main_service(record: OrganisationRecord) -> ServiceRecord | None:
    """The service sharing the organisation's id (else its first): what matching reads."""
    first = record.services[0] if record.services else None
    return next((s for s in record.services if s.id == record.id), first)


def values_from_record(record: OrganisationRecord) -> dict[str, Any]:
    """The form's values for an organisation as the register has it."""
    main = _main_service(record)
    schedules = main.schedules if main else []
    hours = [
        {"days": [d for d in s.byday.split(",") if d], "opens": s.opens_at, "closes": s.closes_at}
        for s in schedules
    ]
    hours += [{"days": [], "opens": "", "closes": ""} for _ in range(max(1, HOURS_ROWS - len(schedules)))]
    values = blank_values()
    values |= {
        "name": record.name,
        "alternate_name": record.alternate_name or "",
        "org_type": record.org_type,
        "corporate_number": record.corporate_number or "",
        "description": record.description or "",
        "website": record.website or "",
        "email": record.email or "",
        "webhook_url": record.webhook_url or "",
        "portal_url": record.portal_url or "",
        "phone": record.phone or "",
        "channels": list(record.channels),
        "active": record.active,
        "coverage": " ".join((main.coverage if main else []) or record.coverage),
        "hours": hours,
    }
    if main:
        values |= {
            "topics": list(main.topics),
            "capabilities": list(main.capabilities),
            "languages": " ".join(main.languages or ["ja"]),
            "genders": list(main.genders),
            "residency": main.residency or "any",
            "minimum_age": "" if main.minimum_age is None else str(main.minimum_age),
            "maximum_age": "" if main.maximum_age is None else str(main.maximum_age),
        }
    return values


def _words(text: str) -> list[str]:
    return list(dict.fromkeys(w for w in _SEPARATORS.split(text.strip()) if w))


def _age(text: str, field: str, problems: list[str]) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) > 130:
        problems.append(field)
        return None
    return int(text)


def body_from_form(form: FormData) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The values as typed (to show again), the register's body, and the fields plainly wrong
    ("name", "coverage", "minimum_age", "hours:2" …).

    Everything else (codes, URLs, check digits, ages in order) the register checks and names.
    """
    values = blank_values()
    for key in _TEXT_FIELDS:
        values[key] = _one(form, key)
    for key in _LIST_FIELDS:
        values[key] = list(form.get(key) or [])
    values["coverage"] = _one(form, "coverage")
    values["languages"] = _one(form, "languages") or "ja"
    values["active"] = bool(form.get("active"))
    values["hours"] = [
        {
            "days": [d for d in form.get(f"byday_{i}") or [] if d in DAYS],
            "opens": _one(form, f"opens_{i}"),
            "closes": _one(form, f"closes_{i}"),
        }
        for i in range(HOURS_ROWS)
    ]
    problems: list[str] = []
    if not values["name"]:
        problems.append("name")
    coverage = _words(values["coverage"])
    if not coverage:
        problems.append("coverage")
    schedules = []
    for i, row in enumerate(values["hours"]):
        if not (row["days"] or row["opens"] or row["closes"]):
            continue
        if not (row["days"] and row["opens"] and row["closes"]):
            problems.append(f"hours:{i + 1}")
            continue
        byday = ",".join(d for d in DAYS if d in row["days"])
        schedules.append(
            {"freq": "WEEKLY", "byday": byday, "opens_at": row["opens"], "closes_at": row["closes"]}
        )
    body: dict[str, Any] = {
        "name": values["name"],
        "org_type": values["org_type"],
        "active": values["active"],
        "coverage": coverage,
        "topics": values["topics"],
        "capabilities": values["capabilities"],
        "languages": _words(values["languages"]),
        "genders": values["genders"],
        "residency": values["residency"] or "any",
        "channels": values["channels"],
        "schedules": schedules,
        "minimum_age": _age(values["minimum_age"], "minimum_age", problems),
        "maximum_age": _age(values["maximum_age"], "maximum_age", problems),
    }
    for key in ("alternate_name", "corporate_number", "description", "website", "email"):
        body[key] = values[key] or None
    for key in ("webhook_url", "portal_url", "phone"):
        body[key] = values[key] or None
    return values, body, problems
