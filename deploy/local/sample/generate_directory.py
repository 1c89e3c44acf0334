"""Generate the sample directory (directory.hsds.json): 500+ fictional organisations, all of Japan.

    .venv/bin/python deploy/local/sample/generate_directory.py [--check]

Every name starts with 【サンプル】: these are not real organisations. Their municipality codes
are real (from directory's geography), spread over all 47 prefectures, with a mix of types,
hours (office hours, evenings, 24 hours, none published), languages, capacities and channels, so
that matching has something to rank and explain anywhere in the country. The output is HSDS 3.0
JSON, the format `POST /v1/hsds/import` reads; `stack.py up` loads it in one request. Seeded
randomness and UUIDv5 ids make the file the same on every run (`--check` verifies that).
"""

import argparse
import json
import random
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from contracts.municipality import Kind
from directory.geography import repository as geography
from directory.hsds.taxonomy import CAPABILITY, GENDER, ORG_TYPE, TOPIC, term_id

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "directory.hsds.json"
NAMESPACE = uuid.UUID("0b6c3f0e-5a43-5d7e-9f61-73616d706c65")
RECEIVER = "http://127.0.0.1:8109/hooks"
# Capacity reports are dated in the past on purpose: 24 h after this they read as stale
# (unknown), which is what a demo directory nobody keeps up to date should look like.
REPORTED = "2026-01-05T09:00:00+09:00"
# When each entry was last confirmed with its organisation: up to 200 days before this day, so
# that most are recent and some are flagged for confirming again (directory: 180 days).
VERIFIED_BY_THEN = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=9)))

WEEKDAYS = "MO,TU,WE,TH,FR"
EVERY_DAY = "MO,TU,WE,TH,FR,SA,SU"
HOURS = {
    "office": [{"byday": WEEKDAYS, "opens_at": "08:30", "closes_at": "17:15"}],
    "office_sat": [
        {"byday": WEEKDAYS, "opens_at": "09:00", "closes_at": "18:00"},
        {"byday": "SA", "opens_at": "10:00", "closes_at": "16:00"},
    ],
    "evening": [{"byday": "TU,WE,TH,FR,SA", "opens_at": "17:00", "closes_at": "22:00"}],
    "night": [{"byday": EVERY_DAY, "opens_at": "18:00", "closes_at": "08:00"}],
    "24h": [{"byday": EVERY_DAY, "opens_at": "00:00", "closes_at": "24:00"}],
    "none": [],
}
NPO_NAMES = [
    "ひだまり",
    "あおぞら",
    "つばさ",
    "こもれび",
    "みちしるべ",
    "よりみち",
    "ともしび",
    "はれのひ",
    "ささえ",
    "わかば",
]
FOREIGN = ["en", "zh", "ko", "vi", "pt", "es", "tl", "ne", "id", "th"]


@dataclass(frozen=True)
class Spec:
    """One kind of organisation: its type, a name pattern ({place}, {npo}) and what it offers."""

    type: str
    name: str
    topics: tuple[str, ...]
    caps: tuple[str, ...]
    hours: str
    min_age: int | None = None
    max_age: int | None = None
    genders: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("ja",)


ALL_LANGUAGES = ("ja", *FOREIGN)
KINDS: dict[str, Spec] = {
    "shakyo": Spec(
        "SHAKYO",
        "{place}社会福祉協議会（サンプル）",
        ("LONELY", "POVERTY", "DISASTER"),
        ("INTERVIEW", "CASH", "FOOD", "OUTREACH"),
        "office",
    ),
    "jiritsu": Spec(
        "JIRITSU",
        "{place}くらしとしごと相談窓口（サンプル）",
        ("POVERTY", "LONELY"),
        ("INTERVIEW", "ACCOMPANY", "HOUSING", "JOB", "CASH"),
        "office_sat",
    ),
    "welfare": Spec(
        "WELFARE_OFFICE",
        "{place}福祉事務所（サンプル）",
        ("POVERTY", "SINGLE_MOTHER"),
        ("INTERVIEW", "CASH", "HOUSING"),
        "office",
    ),
    "houkatsu": Spec(
        "HOUKATSU",
        "{place}地域包括支援センター（サンプル）",
        ("LONELY",),
        ("INTERVIEW", "OUTREACH", "MEDICAL_LINK"),
        "office",
        min_age=65,
    ),
    "npo": Spec("NPO", "NPO法人{npo}{place}（サンプル）", (), ("INTERVIEW", "ACCOMPANY", "FOOD"), "evening"),
    "youth": Spec(
        "SAPOSTE",
        "{place}若者サポートステーション（サンプル）",
        ("LONELY", "UNDER18"),
        ("INTERVIEW", "JOB"),
        "office_sat",
        min_age=15,
        max_age=49,
    ),
    "mhwc": Spec(
        "MHWC",
        "{place}こころの健康センター（サンプル）",
        ("SUICIDAL", "LONELY"),
        ("INTERVIEW", "MEDICAL_LINK"),
        "office",
    ),
    "women": Spec(
        "WOMEN_CENTER",
        "{place}女性相談支援センター（サンプル）",
        ("WOMEN", "SINGLE_MOTHER"),
        ("INTERVIEW", "SHELTER", "ACCOMPANY"),
        "24h",
        genders=("female",),
    ),
    "line": Spec(
        "NPO",
        "{place}よりそい24時間ネット（サンプル・NPO法人）",
        (),
        ("INTERVIEW", "ACCOMPANY", "OUTREACH", "MEDICAL_LINK"),
        "24h",
    ),
    "hikikomori": Spec(
        "HIKIKOMORI",
        "{place}ひきこもり地域支援センター（サンプル）",
        ("LONELY", "UNDER18"),
        ("INTERVIEW", "OUTREACH", "MEDICAL_LINK"),
        "office",
    ),
    "foreign": Spec(
        "NPO",
        "{place}外国人総合相談センター（サンプル）",
        (),
        ("INTERVIEW", "ACCOMPANY", "MULTILINGUAL", "LEGAL"),
        "office_sat",
        languages=ALL_LANGUAGES[:9],
    ),
    "dv": Spec(
        "DV_CENTER",
        "{place}配偶者暴力相談支援センター（サンプル）",
        ("WOMEN", "SINGLE_MOTHER"),
        ("INTERVIEW", "SHELTER", "ACCOMPANY", "LEGAL"),
        "office",
    ),
    "youth_npo": Spec(
        "NPO",
        "NPO法人{npo}ユースサポート{place}（サンプル）",
        ("UNDER18", "LONELY", "SUICIDAL", "SOGI"),
        ("INTERVIEW", "ACCOMPANY", "OUTREACH", "MEDICAL_LINK"),
        "evening",
        min_age=10,
        max_age=24,
    ),
    "foreign_line": Spec(
        "NPO",
        "{place}多言語24時間ライン（サンプル・NPO法人）",
        (),
        ("INTERVIEW", "MULTILINGUAL", "MEDICAL_LINK"),
        "24h",
        languages=ALL_LANGUAGES,
    ),
    "child": Spec(
        "CHILD_GUIDANCE",
        "{place}児童相談所（サンプル）",
        ("UNDER18",),
        ("INTERVIEW", "SHELTER", "OUTREACH"),
        "24h",
        max_age=17,
    ),
}


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def _attribute(taxonomy: Any, code: str) -> dict[str, str]:
    return {"taxonomy_term_id": str(term_id(taxonomy, code))}


def organisation(rng: random.Random, kind: str, place: str, coverage: list[str], key: str) -> dict[str, Any]:
    spec = KINDS[kind]
    org_id = _id("org", key)
    name = "【サンプル】" + spec.name.format(place=place, npo=rng.choice(NPO_NAMES))
    languages = list(spec.languages)
    if kind in ("npo", "line") and rng.random() < 0.5:
        languages += sorted(rng.sample(FOREIGN, rng.randint(1, 3)))
    caps = list(dict.fromkeys(list(spec.caps) + (["MULTILINGUAL"] if len(languages) > 1 else [])))
    hours = spec.hours if kind != "npo" else rng.choice(["evening", "night", "office_sat", "none"])
    service: dict[str, Any] = {
        "id": _id("service", key),
        "name": name.removeprefix("【サンプル】"),
        "status": "active",
        "service_areas": [{"extent": c} for c in coverage],
        "languages": [{"code": code} for code in languages],
        "schedules": HOURS[hours],
        "attributes": [_attribute(TOPIC, t) for t in spec.topics] + [_attribute(CAPABILITY, c) for c in caps],
        "minimum_age": spec.min_age,
        "maximum_age": spec.max_age,
    }
    if spec.genders:
        service["attributes"].append({"taxonomy_term_id": _gender_term(spec.genders[0])})
    if rng.random() < 0.6:
        maximum = rng.choice([3, 5, 10, 20])
        service["service_capacity"] = [
            {
                "available": rng.randint(0, maximum),
                "maximum": maximum,
                "updated": REPORTED,
                "unit": {"name": "referrals"},
            }
        ]
    # Most take handoffs by webhook at the sample receiver; some only by e-mail, a few by both.
    channel = rng.choices(["webhook", "email", "both"], weights=[6, 3, 1])[0]
    extension: dict[str, Any] = {"channels": ["webhook", "email"] if channel == "both" else [channel]}
    # A generator of its own, so that adding the date left every other draw (and entry) as it was.
    days_before = random.Random(org_id).randrange(0, 200)  # noqa: S311 -- sample data
    extension["last_verified_at"] = (VERIFIED_BY_THEN - timedelta(days=days_before)).isoformat()
    extension["last_verified_by"] = "サンプルデータ"
    org: dict[str, Any] = {
        "id": org_id,
        "name": name,
        "description": "サンプルデータ: 実在しない団体です。 Sample data: not a real organisation.",
        "attributes": [_attribute(ORG_TYPE, spec.type)],
        "services": [service],
        "locations": [],
        "x_tsunagu": extension,
    }
    if channel in ("webhook", "both"):
        extension["webhook_url"] = f"{RECEIVER}/{org_id}"
    if channel in ("email", "both"):
        org["email"] = f"handoff+{org_id[:8]}@sample.tsunagu.invalid"
    return org


def _gender_term(code: str) -> str:
    return str(term_id(GENDER, code))


def with_office(org: dict[str, Any], municipality: Any, key: str) -> dict[str, Any]:
    location_id = _id("location", key)
    org["locations"] = [
        {
            "id": location_id,
            "name": f"{municipality.name}の相談窓口（サンプル）",
            "latitude": municipality.latitude,
            "longitude": municipality.longitude,
            "external_identifier": municipality.code,
        }
    ]
    org["services"][0]["service_at_locations"] = [{"location_id": location_id}]
    return org


def build() -> dict[str, Any]:
    rng = random.Random(9999)  # noqa: S311 -- sample data, reproducible on purpose
    geo = geography.load()
    organizations: list[dict[str, Any]] = []
    for prefecture in geo.prefectures.values():
        pref_name = prefecture.name
        towns = sorted(
            (
                m
                for m in geo.municipalities.values()
                if m.prefecture_code == prefecture.code and m.kind is not Kind.DESIGNATED_CITY
            ),
            key=lambda m: m.code,
        )
        # Prefecture-wide bodies: a mental-health centre, a women's centre, a 24-hour line, and
        # the specialists every prefecture has: a ひきこもり centre, a DV centre, a foreign
        # residents' centre and a youth NPO.
        capital = towns[0]
        for kind in ("mhwc", "women", "line", "hikikomori", "dv", "foreign", "youth_npo"):
            org = organisation(rng, kind, pref_name, [prefecture.code], f"{prefecture.code}:{kind}")
            organizations.append(with_office(org, capital, f"{prefecture.code}:{kind}"))
        # Local bodies in a few municipalities (wards of designated cities count as places).
        for m in rng.sample(towns, min(len(towns), 3)):
            kinds = rng.sample(
                ["shakyo", "jiritsu", "welfare", "houkatsu", "npo", "youth"], 1 + (rng.random() < 0.4)
            )
            for kind in kinds:
                key = f"{m.code}:{kind}"
                org = organisation(rng, kind, m.name, [m.code], key)
                organizations.append(with_office(org, m, key))
        # A designated city's body covering all its wards at once (the city tier).
        cities = [
            m
            for m in geo.municipalities.values()
            if m.prefecture_code == prefecture.code and m.kind is Kind.DESIGNATED_CITY
        ]
        for city in cities:
            key = f"{city.code}:child"
            organizations.append(
                with_office(organisation(rng, "child", city.name, [city.code], key), city, key)
            )
    for kind in ("line", "npo", "foreign_line"):
        organizations.append(organisation(rng, kind, "全国", ["JP"], f"JP:{kind}"))
    return {"organizations": organizations}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    # One organisation per line: small, and a diff shows which ones changed.
    lines = [json.dumps(o, ensure_ascii=False, separators=(",", ":")) for o in build()["organizations"]]
    text = '{"organizations": [\n' + ",\n".join(lines) + "\n]}\n"
    if parser.parse_args().check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUTPUT.name} is stale: run {Path(__file__).name}")
        print("sample directory is up to date")
        return
    OUTPUT.write_text(text, encoding="utf-8")
    count = text.count('"x_tsunagu"')
    print(f"wrote {OUTPUT} ({count} organisations, {len(text.encode()):,} bytes)")


if __name__ == "__main__":
    main()
