"""The coverage map over HTTP on real PostgreSQL: classes at a weekday noon and at 02:00 on a
national holiday, the CSV, the 422s, and the whole sample directory within about a second."""

import csv
import io
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.hours import weekly
from contracts.vocabulary import Topic
from directory.register.domain import Capability, OrgType
from eventkit.auth import generate_signing_keypair
from eventkit.testing import bearer, repo_root

PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()
OPERATOR = bearer(PRIVATE_KEY, "operator")
COUNSELLOR = bearer(PRIVATE_KEY, "counsellor")

SHINJUKU, SETAGAYA, CHIYODA = "131041", "131121", "131016"
OSAKA, KITA_OSAKA, TOYONAKA = "271004", "271276", "272035"
SAPPORO_CHUO = "011011"
# 2027-05-12 is an ordinary Wednesday; 2027-05-03 a Monday and 憲法記念日; 2027-05-10 a Monday.
WEDNESDAY_NOON = "2027-05-12T12:00:00+09:00"
HOLIDAY_2AM = "2027-05-03T02:00:00+09:00"
MONDAY_2AM = "2027-05-10T02:00:00+09:00"
SHELTER = frozenset({Capability.SHELTER, Capability.ACCOMPANY, Capability.INTERVIEW})
EVERY_DAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"]


@pytest.fixture
def auth_public_key() -> str:
    """The key of this module's tokens, for conftest's `client` (the real app, without its consumer)."""
    return PUBLIC_KEY


@pytest.fixture
async def two_prefectures(registrar: Any) -> dict[str, uuid.UUID]:
    """DV support in Tokyo and Osaka, and a national line; what each is for is in its name."""
    women = (Topic.WOMEN,)
    made = {
        "shinjuku_office_hours": await registrar(
            "新宿区配偶者暴力相談支援センター",
            (SHINJUKU,),
            org={"org_type": OrgType.DV_CENTER},
            topics=women,
            capabilities=SHELTER,
            schedules=(weekly(WEEKDAYS, "08:30", "17:15"),),
        ),
        "tokyo_night_line": await registrar(
            "東京夜間シェルター", ("13",), topics=women, capabilities=SHELTER,
            schedules=(weekly(EVERY_DAY, "20:00", "09:00"),),
        ),
        "setagaya_hours_unknown": await registrar(
            "世田谷女性支援ネット", (SETAGAYA,), topics=women, capabilities=SHELTER
        ),
        "osaka_city_generalist": await registrar(
            "大阪市社会福祉協議会", (OSAKA,), org={"org_type": OrgType.SHAKYO},
            capabilities=frozenset({Capability.INTERVIEW}), schedules=(weekly(EVERY_DAY, "00:00", "24:00"),),
        ),
        # A public body's night desk: closed on national holidays like its office.
        "kita_public_night_desk": await registrar(
            "北区女性相談夜間窓口", (KITA_OSAKA,), org={"org_type": OrgType.WOMEN_CENTER},
            topics=women, capabilities=SHELTER, schedules=(weekly(WEEKDAYS, "00:00", "08:00"),),
        ),
        "national_line": await registrar(
            "全国DVホットライン", ("JP",), topics=women, capabilities=SHELTER,
            schedules=(weekly(EVERY_DAY, "00:00", "24:00"),),
        ),
    }  # fmt: skip
    return {name: organisation.id for name, (organisation, _) in made.items()}


async def _map(client: httpx.AsyncClient, at: str, need: str, **more: str) -> dict[str, Any]:
    response = await client.get("/v1/coverage", params={"at": at, "need": need, **more}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _classes(body: dict[str, Any]) -> dict[str, str]:
    return {m["code"]: m["coverage"] for m in body["municipalities"]}


def _prefecture(body: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in body["prefectures"] if p["code"] == code)
    return found


async def test_at_a_weekday_noon_open_offices_count_and_unknown_hours_and_generalists_show(
    client: httpx.AsyncClient, two_prefectures: dict[str, uuid.UUID]
) -> None:
    tokyo = await _map(client, WEDNESDAY_NOON, "dv_shelter", prefecture="13")
    osaka = await _map(client, WEDNESDAY_NOON, "dv_shelter", prefecture="27")

    assert tokyo["at"] == WEDNESDAY_NOON
    assert tokyo["needs"] == {
        "topic": "WOMEN", "severity": "S3", "need_tags": ["DV"], "age_band": "30-64", "gender": "female",
        "language": "ja",
    }  # fmt: skip
    classes = _classes(tokyo) | _classes(osaka)
    assert classes[SHINJUKU] == "capable_open"
    assert classes[SETAGAYA] == "capable_unknown_hours"
    # The night line is closed at noon, so Chiyoda's case would go to the national line.
    assert classes[CHIYODA] == "national_only"
    assert classes[KITA_OSAKA] == "generalist"  # its night desk is closed; the city's 社協 is not
    assert classes[TOYONAKA] == "national_only"
    shinjuku = next(m for m in tokyo["municipalities"] if m["code"] == SHINJUKU)
    assert shinjuku["organisation_id"] == str(two_prefectures["shinjuku_office_hours"])
    assert (shinjuku["tier"], shinjuku["open_now"], shinjuku["open_until"]) == (
        "municipality",
        True,
        "2027-05-12T17:15:00+09:00",
    )
    assert _prefecture(tokyo, "13")["counts"] == {
        "capable_open": 1, "capable_unknown_hours": 1, "generalist": 0, "national_only": 60, "none": 0
    }  # fmt: skip
    assert _prefecture(tokyo, "13")["shade"] == "some_open"
    assert _prefecture(tokyo, "27")["shade"] == "not_open"
    assert _prefecture(tokyo, "01")["shade"] == "not_open"
    assert len(tokyo["prefectures"]) == 47
    assert tokyo["places"] == sum(p["places"] for p in tokyo["prefectures"]) == sum(tokyo["totals"].values())


async def test_at_2am_on_a_national_holiday_the_night_line_covers_tokyo_and_public_desks_are_shut(
    client: httpx.AsyncClient, two_prefectures: dict[str, uuid.UUID]
) -> None:
    holiday = await _map(client, HOLIDAY_2AM, "dv_shelter", prefecture="13")
    osaka_holiday = await _map(client, HOLIDAY_2AM, "dv_shelter", prefecture="27")
    osaka_monday = await _map(client, MONDAY_2AM, "dv_shelter", prefecture="27")

    # Every Tokyo place: the prefecture-wide night line is open, and an open capable one ranks
    # before Setagaya's own of unknown hours.
    assert set(_classes(holiday).values()) == {"capable_open"}
    assert {m["organisation_id"] for m in holiday["municipalities"]} == {
        str(two_prefectures["tokyo_night_line"])
    }
    assert _prefecture(holiday, "13")["shade"] == "all_open"
    # The same Monday hour a week later, no holiday: Kita's public night desk is staffed.
    assert _classes(osaka_holiday)[KITA_OSAKA] == "generalist"
    assert _classes(osaka_monday)[KITA_OSAKA] == "capable_open"
    assert _prefecture(osaka_monday, "27")["shade"] == "some_open"


async def test_a_need_nobody_takes_is_none_and_a_prefecture_with_no_taker_is_red(
    client: httpx.AsyncClient, two_prefectures: dict[str, uuid.UUID]
) -> None:
    minors = await _map(client, WEDNESDAY_NOON, "minor_at_risk", prefecture="27")

    classes = _classes(minors)
    assert classes[TOYONAKA] == "none"
    assert classes[KITA_OSAKA] == "generalist"  # the 社協 takes every topic, but cannot go out
    assert OSAKA not in classes  # the designated city is represented by its 24 wards
    assert sum(1 for c in classes.values() if c == "generalist") == 24
    assert _prefecture(minors, "13")["shade"] == "none"
    assert _prefecture(minors, "27")["shade"] == "not_open"
    assert minors["needs"]["age_band"] == "12-17"


async def test_the_csv_has_a_bom_a_header_and_one_row_per_place(
    client: httpx.AsyncClient, two_prefectures: dict[str, uuid.UUID]
) -> None:
    response = await client.get(
        "/v1/coverage.csv",
        params={"at": WEDNESDAY_NOON, "need": "dv_shelter", "prefecture": "13"},
        headers=OPERATOR,
    )
    everywhere = await client.get(
        "/v1/coverage.csv", params={"at": WEDNESDAY_NOON, "need": "dv_shelter"}, headers=OPERATOR
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="coverage-dv_shelter-20270512T1200-13.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "prefecture_code", "prefecture", "municipality_code", "municipality", "coverage",
        "organisation_id", "organisation", "tier", "open_now", "open_until",
    ]  # fmt: skip
    assert len(rows) == 1 + 62
    shinjuku = next(r for r in rows if r[2] == SHINJUKU)
    assert shinjuku == [
        "13", "東京都", SHINJUKU, "東京都新宿区", "capable_open", str(two_prefectures["shinjuku_office_hours"]),
        "新宿区配偶者暴力相談支援センター", "municipality", "true", "2027-05-12T17:15+09:00",
    ]  # fmt: skip
    setagaya = next(r for r in rows if r[2] == SETAGAYA)
    assert setagaya[4:] == [
        "capable_unknown_hours", str(two_prefectures["setagaya_hours_unknown"]), "世田谷女性支援ネット",
        "municipality", "", "",
    ]  # fmt: skip
    all_rows = list(csv.reader(io.StringIO(everywhere.content.decode("utf-8-sig"))))
    assert len(all_rows) == 1 + 1892
    assert [r[2] for r in all_rows[1:]] == sorted(r[2] for r in all_rows[1:])


async def test_a_foreign_language_need_takes_a_language_and_other_needs_refuse_one(
    client: httpx.AsyncClient,
) -> None:
    default = await _map(client, WEDNESDAY_NOON, "foreign_language")
    chosen = await _map(client, WEDNESDAY_NOON, "foreign_language", language="pt")
    refused = await client.get(
        "/v1/coverage",
        params={"at": WEDNESDAY_NOON, "need": "dv_shelter", "language": "en"},
        headers=OPERATOR,
    )

    assert (default["needs"]["language"], chosen["needs"]["language"]) == ("vi", "pt")
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "query.language"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"at": WEDNESDAY_NOON, "need": "pets"}, "query.need"),
        ({"at": "2027-05-03T02:00:00", "need": "dv_shelter"}, "query.at"),
        ({"need": "dv_shelter"}, "query.at"),
        ({"at": WEDNESDAY_NOON, "need": "dv_shelter", "prefecture": "48"}, "query.prefecture"),
        ({"at": WEDNESDAY_NOON, "need": "foreign_language", "language": "ja"}, "query.language"),
    ],
    ids=["unknown-need", "naive-time", "no-time", "no-such-prefecture", "japanese-is-not-foreign"],
)
async def test_bad_parameters_are_a_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    for path in ("/v1/coverage", "/v1/coverage.csv"):
        response = await client.get(path, params=params, headers=OPERATOR)

        assert response.status_code == 422, path
        error = response.json()["error"]
        assert error["code"] == "validation_failed"
        assert [d["field"] for d in error["details"]] == [field]


async def test_only_operators_see_the_coverage_map(client: httpx.AsyncClient) -> None:
    params = {"at": WEDNESDAY_NOON, "need": "dv_shelter"}
    assert (await client.get("/v1/coverage", params=params, headers=COUNSELLOR)).status_code == 403
    assert (await client.get("/v1/coverage.csv", params=params)).status_code == 401


async def test_the_whole_country_answers_within_about_a_second_on_the_sample_directory(
    client: httpx.AsyncClient,
) -> None:
    sample = repo_root() / "deploy" / "local" / "sample" / "directory.hsds.json"
    document = json.loads(Path(sample).read_text(encoding="utf-8"))
    imported = await client.post("/v1/hsds/import", json=document, headers=OPERATOR)
    assert imported.status_code == 200, imported.text

    timings = []
    for need in ("dv_shelter", "suicide_risk"):
        started = time.perf_counter()
        body = await _map(client, HOLIDAY_2AM, need, prefecture="27")
        timings.append(time.perf_counter() - started)
        assert body["places"] == 1892
    # The second request reads decoded listings from the cache, as every request but the first
    # after a start does; the bound leaves room for a busy two-core machine.
    assert timings[1] < 1.5, timings
