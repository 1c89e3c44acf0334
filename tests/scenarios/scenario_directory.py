"""A realistic directory for the scenarios: the kinds of organisation a #9999 case is handed to, in
four places — a designated city with wards (浜松市), a Tokyo special ward and a remote island
(世田谷区, 小笠原村), a town rebuilding after a disaster (陸前高田市) and an island town in the north
(利尻町).

Loaded beside the sample directory that `make up` loads (its prefecture-wide bodies, 24-hour lines
and national lines compete here too), so what the scenarios show is what a counsellor would see.
Every name ends with （シナリオ）: these are not real organisations. Each entry is the body of
`PUT /v1/organisations/{id}`; the webhook URL is the test's receiver, filled in when loaded.
"""

import uuid
from typing import Any

NAMESPACE = uuid.UUID("5c3e7a90-2b1d-5f4e-8c6a-7363656e6172")

HAMAMATSU, CHUO, HAMANA, TENRYU = "221309", "221384", "221392", "221406"
SHIZUOKA = "22"
SETAGAYA, OGASAWARA = "131121", "134210"
RIKUZENTAKATA, RISHIRI = "032107", "015181"

EVERY_DAY = "MO,TU,WE,TH,FR,SA,SU"
WEEKDAYS = "MO,TU,WE,TH,FR"


def hours(byday: str, opens: str, closes: str) -> list[dict[str, str]]:
    return [{"byday": byday, "opens_at": opens, "closes_at": closes}]


ROUND_THE_CLOCK = hours(EVERY_DAY, "00:00", "24:00")
OFFICE = hours(WEEKDAYS, "08:30", "17:15")


def shakyo(name: str, code: str, capabilities: list[str]) -> dict[str, Any]:
    """A council of social welfare (社会福祉協議会): every one here takes loneliness, poverty and
    disaster cases in its municipality, in office hours."""
    return {
        "name": name,
        "org_type": "SHAKYO",
        "coverage": [code],
        "topics": ["LONELY", "POVERTY", "DISASTER"],
        "capabilities": capabilities,
        "schedules": OFFICE,
    }


# key → (name, org_type, coverage, topics, capabilities, schedules, extra fields)
ORGANISATIONS: dict[str, dict[str, Any]] = {
    # ---- 浜松市 (a designated city: 中央区, 浜名区, 天竜区) --------------------------------------
    "chuo_shakyo": shakyo(
        "浜松市中央区社会福祉協議会（シナリオ）", CHUO, ["INTERVIEW", "ACCOMPANY", "FOOD", "CASH", "OUTREACH"]
    ),
    "jiritsu": {
        "name": "浜松市生活自立相談支援センター（シナリオ）",
        "org_type": "JIRITSU",
        "coverage": [HAMAMATSU],
        "topics": ["POVERTY", "LONELY"],
        "capabilities": ["INTERVIEW", "ACCOMPANY", "HOUSING", "JOB", "CASH", "FOOD"],
        "schedules": hours("MO,TU,WE,TH,FR,SA", "09:00", "18:00"),
    },
    "welfare_office": {
        # No published hours: a public office keeps a public office's (weekdays 08:30–17:15).
        "name": "浜松市福祉事務所（シナリオ）",
        "org_type": "WELFARE_OFFICE",
        "coverage": [HAMAMATSU],
        "topics": ["POVERTY", "SINGLE_MOTHER"],
        "capabilities": ["INTERVIEW", "CASH", "HOUSING"],
    },
    "dv_shelter": {
        "name": "はままつDVシェルターはまかぜ（シナリオ）",
        "org_type": "NPO",
        "coverage": [HAMAMATSU],
        "topics": ["WOMEN", "SINGLE_MOTHER"],
        "capabilities": ["INTERVIEW", "SHELTER", "ACCOMPANY", "OUTREACH", "LEGAL"],
        "schedules": ROUND_THE_CLOCK,
        "genders": ["female"],
    },
    "men_line": {
        "name": "静岡男性DV被害者ホットライン（シナリオ）",
        "org_type": "NPO",
        "coverage": [SHIZUOKA],
        "topics": ["LONELY", "WOMEN"],
        "capabilities": ["INTERVIEW", "SHELTER", "ACCOMPANY", "LEGAL"],
        "schedules": ROUND_THE_CLOCK,
        "genders": ["male"],
    },
    "hikikomori": {
        "name": "浜松市ひきこもり地域支援センター（シナリオ）",
        "org_type": "HIKIKOMORI",
        "coverage": [HAMAMATSU],
        "topics": ["LONELY", "UNDER18"],
        "capabilities": ["INTERVIEW", "OUTREACH", "MEDICAL_LINK"],
        "schedules": hours(WEEKDAYS, "09:00", "17:00"),
    },
    "mental_health": {
        "name": "浜松市精神保健福祉センター（シナリオ）",
        "org_type": "MHWC",
        "coverage": [HAMAMATSU],
        "topics": ["SUICIDAL", "LONELY"],
        "capabilities": ["INTERVIEW", "MEDICAL_LINK"],
        "schedules": OFFICE,
    },
    "adult_crisis": {
        "name": "浜松いのちの相談室・成人（シナリオ）",
        "org_type": "NPO",
        "coverage": [HAMAMATSU],
        "topics": ["SUICIDAL", "LONELY"],
        "capabilities": ["INTERVIEW", "MEDICAL_LINK", "ACCOMPANY"],
        "schedules": ROUND_THE_CLOCK,
        "minimum_age": 18,
        "maximum_age": 64,
    },
    "youth": {
        "name": "NPO法人はままつユースネット（シナリオ）",
        "org_type": "NPO",
        "coverage": [HAMAMATSU],
        "topics": ["UNDER18", "LONELY", "SUICIDAL", "SOGI"],
        "capabilities": ["INTERVIEW", "ACCOMPANY", "MEDICAL_LINK", "OUTREACH"],
        "schedules": hours(EVERY_DAY, "15:00", "23:00"),
        "minimum_age": 10,
        "maximum_age": 24,
    },
    "foreign_centre": {
        "name": "浜松国際交流協会外国人相談センター（シナリオ）",
        "org_type": "NPO",
        "coverage": [HAMAMATSU],
        "topics": [],
        "capabilities": ["INTERVIEW", "ACCOMPANY", "MULTILINGUAL", "LEGAL", "MEDICAL_LINK"],
        "languages": ["ja", "en", "pt", "es", "tl", "zh", "vi"],
        "schedules": hours("TU,WE,TH,FR,SA,SU", "09:00", "17:00"),
    },
    "multilingual_line": {
        # A telephone line: it links to care in nine languages but meets nobody (no 面談).
        "name": "浜松市多言語こころの電話（シナリオ）",
        "org_type": "NPO",
        "coverage": [HAMAMATSU],
        "topics": [],
        "capabilities": ["MEDICAL_LINK", "MULTILINGUAL"],
        "languages": ["ja", "en", "pt", "es", "tl", "zh", "vi", "ko", "ne"],
        "schedules": ROUND_THE_CLOCK,
    },
    "chuo_npo": {
        # Hours never published: unknown, so a serious case goes to one known to be open first.
        "name": "NPO法人よりどころ中央（シナリオ）",
        "org_type": "NPO",
        "coverage": [CHUO],
        "topics": [],
        "capabilities": ["INTERVIEW"],
    },
    "tenryu_shakyo": shakyo(
        "浜松市天竜区社会福祉協議会（シナリオ）", TENRYU, ["INTERVIEW", "OUTREACH", "FOOD"]
    ),
    "night_outreach": {
        "name": "はまなこ夜まわりの会（シナリオ）",
        "org_type": "NPO",
        "coverage": [HAMAMATSU],
        "topics": ["POVERTY", "LONELY"],
        "capabilities": ["INTERVIEW", "OUTREACH", "FOOD", "HOUSING", "ACCOMPANY"],
        "schedules": hours(EVERY_DAY, "18:00", "06:00"),
    },
    # ---- 東京都: 世田谷区 and the Ogasawara islands ---------------------------------------------
    "setagaya_shakyo": shakyo(
        "世田谷区社会福祉協議会（シナリオ）", SETAGAYA, ["INTERVIEW", "ACCOMPANY", "FOOD", "CASH", "OUTREACH"]
    ),
    "setagaya_child": {
        "name": "世田谷区児童相談所（シナリオ）",
        "org_type": "CHILD_GUIDANCE",
        "coverage": [SETAGAYA],
        "topics": ["UNDER18"],
        "capabilities": ["INTERVIEW", "SHELTER", "OUTREACH", "ACCOMPANY"],
        "schedules": ROUND_THE_CLOCK,
        "maximum_age": 17,
    },
    "setagaya_sogi": {
        "name": "NPO法人せたがやにじいろ相談室（シナリオ）",
        "org_type": "NPO",
        "coverage": [SETAGAYA],
        "topics": ["SOGI", "LONELY"],
        "capabilities": ["INTERVIEW", "ACCOMPANY"],
        "schedules": hours("TU,WE,TH,FR,SA,SU", "13:00", "21:00"),
    },
    "ogasawara_shakyo": shakyo(
        "小笠原村社会福祉協議会（シナリオ）", OGASAWARA, ["INTERVIEW", "OUTREACH", "FOOD"]
    ),
    # ---- 岩手県陸前高田市: rebuilding after a disaster ----------------------------------------
    "takata_shakyo": shakyo(
        "陸前高田市社会福祉協議会（シナリオ）",
        RIKUZENTAKATA,
        ["INTERVIEW", "OUTREACH", "FOOD", "HOUSING", "ACCOMPANY"],
    ),
    "takata_rebuild": {
        "name": "NPO法人たかた生活再建ネット（シナリオ）",
        "org_type": "NPO",
        "coverage": [RIKUZENTAKATA],
        "topics": ["DISASTER", "POVERTY"],
        "capabilities": ["HOUSING", "FOOD", "CASH", "ACCOMPANY"],
        "schedules": ROUND_THE_CLOCK,
    },
    # ---- 北海道利尻町: an island town --------------------------------------------------------
    "rishiri_shakyo": shakyo("利尻町社会福祉協議会（シナリオ）", RISHIRI, ["INTERVIEW", "OUTREACH", "FOOD"]),
}


def organisation_id(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


def bodies(webhook_base: str) -> dict[str, dict[str, Any]]:
    """Each organisation's registration, keyed by its id, with the receiver's webhook URL."""
    return {
        organisation_id(key): spec | {"webhook_url": f"{webhook_base}/hooks/{organisation_id(key)}"}
        for key, spec in ORGANISATIONS.items()
    }
