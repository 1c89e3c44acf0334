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
from dataclasses import asdict, dataclass
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


@dataclass(frozen=True)
class Org:
    """One organisation's registration (the body of `PUT /v1/organisations/{id}`), less its webhook URL."""

    name: str
    org_type: str
    coverage: list[str]
    topics: list[str]
    capabilities: list[str]
    schedules: list[dict[str, str]] | None = None  # None: no hours published
    languages: list[str] | None = None
    genders: list[str] | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None

    def body(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


def shakyo(name: str, code: str, capabilities: list[str]) -> Org:
    """A council of social welfare (社会福祉協議会): every one here takes loneliness, poverty and
    disaster cases in its municipality, in office hours."""
    return Org(name, "SHAKYO", [code], ["LONELY", "POVERTY", "DISASTER"], capabilities, OFFICE)


ORGANISATIONS: dict[str, Org] = {
    # ---- 浜松市 (a designated city: 中央区, 浜名区, 天竜区) --------------------------------------
    "chuo_shakyo": shakyo(
        "浜松市中央区社会福祉協議会（シナリオ）", CHUO, ["INTERVIEW", "ACCOMPANY", "FOOD", "CASH", "OUTREACH"]
    ),
    "jiritsu": Org(
        "浜松市生活自立相談支援センター（シナリオ）",
        "JIRITSU",
        [HAMAMATSU],
        ["POVERTY", "LONELY"],
        ["INTERVIEW", "ACCOMPANY", "HOUSING", "JOB", "CASH", "FOOD"],
        hours("MO,TU,WE,TH,FR,SA", "09:00", "18:00"),
    ),
    # No published hours: a public office keeps a public office's (weekdays 08:30–17:15).
    "welfare_office": Org(
        "浜松市福祉事務所（シナリオ）",
        "WELFARE_OFFICE",
        [HAMAMATSU],
        ["POVERTY", "SINGLE_MOTHER"],
        ["INTERVIEW", "CASH", "HOUSING"],
    ),
    "dv_shelter": Org(
        "はままつDVシェルターはまかぜ（シナリオ）",
        "NPO",
        [HAMAMATSU],
        ["WOMEN", "SINGLE_MOTHER"],
        ["INTERVIEW", "SHELTER", "ACCOMPANY", "OUTREACH", "LEGAL"],
        ROUND_THE_CLOCK,
        genders=["female"],
    ),
    "men_line": Org(
        "静岡男性DV被害者ホットライン（シナリオ）",
        "NPO",
        [SHIZUOKA],
        ["LONELY", "WOMEN"],
        ["INTERVIEW", "SHELTER", "ACCOMPANY", "LEGAL"],
        ROUND_THE_CLOCK,
        genders=["male"],
    ),
    "hikikomori": Org(
        "浜松市ひきこもり地域支援センター（シナリオ）",
        "HIKIKOMORI",
        [HAMAMATSU],
        ["LONELY", "UNDER18"],
        ["INTERVIEW", "OUTREACH", "MEDICAL_LINK"],
        hours(WEEKDAYS, "09:00", "17:00"),
    ),
    "mental_health": Org(
        "浜松市精神保健福祉センター（シナリオ）",
        "MHWC",
        [HAMAMATSU],
        ["SUICIDAL", "LONELY"],
        ["INTERVIEW", "MEDICAL_LINK"],
        OFFICE,
    ),
    "adult_crisis": Org(
        "浜松いのちの相談室・成人（シナリオ）",
        "NPO",
        [HAMAMATSU],
        ["SUICIDAL", "LONELY"],
        ["INTERVIEW", "MEDICAL_LINK", "ACCOMPANY"],
        ROUND_THE_CLOCK,
        minimum_age=18,
        maximum_age=64,
    ),
    "youth": Org(
        "NPO法人はままつユースネット（シナリオ）",
        "NPO",
        [HAMAMATSU],
        ["UNDER18", "LONELY", "SUICIDAL", "SOGI"],
        ["INTERVIEW", "ACCOMPANY", "MEDICAL_LINK", "OUTREACH"],
        hours(EVERY_DAY, "15:00", "23:00"),
        minimum_age=10,
        maximum_age=24,
    ),
    "foreign_centre": Org(
        "浜松国際交流協会外国人相談センター（シナリオ）",
        "NPO",
        [HAMAMATSU],
        [],
        ["INTERVIEW", "ACCOMPANY", "MULTILINGUAL", "LEGAL", "MEDICAL_LINK"],
        hours("TU,WE,TH,FR,SA,SU", "09:00", "17:00"),
        languages=["ja", "en", "pt", "es", "tl", "zh", "vi"],
    ),
    # A telephone line: it links to care in nine languages but meets nobody (no 面談).
    "multilingual_line": Org(
        "浜松市多言語こころの電話（シナリオ）",
        "NPO",
        [HAMAMATSU],
        [],
        ["MEDICAL_LINK", "MULTILINGUAL"],
        ROUND_THE_CLOCK,
        languages=["ja", "en", "pt", "es", "tl", "zh", "vi", "ko", "ne"],
    ),
    # Hours never published: unknown, so a serious case goes to one known to be open first.
    "chuo_npo": Org("NPO法人よりどころ中央（シナリオ）", "NPO", [CHUO], [], ["INTERVIEW"]),
    "tenryu_shakyo": shakyo(
        "浜松市天竜区社会福祉協議会（シナリオ）", TENRYU, ["INTERVIEW", "OUTREACH", "FOOD"]
    ),
    "night_outreach": Org(
        "はまなこ夜まわりの会（シナリオ）",
        "NPO",
        [HAMAMATSU],
        ["POVERTY", "LONELY"],
        ["INTERVIEW", "OUTREACH", "FOOD", "HOUSING", "ACCOMPANY"],
        hours(EVERY_DAY, "18:00", "06:00"),
    ),
    # ---- 東京都: 世田谷区 and the Ogasawara islands ---------------------------------------------
    "setagaya_shakyo": shakyo(
        "世田谷区社会福祉協議会（シナリオ）", SETAGAYA, ["INTERVIEW", "ACCOMPANY", "FOOD", "CASH", "OUTREACH"]
    ),
    "setagaya_child": Org(
        "世田谷区児童相談所（シナリオ）",
        "CHILD_GUIDANCE",
        [SETAGAYA],
        ["UNDER18"],
        ["INTERVIEW", "SHELTER", "OUTREACH", "ACCOMPANY"],
        ROUND_THE_CLOCK,
        maximum_age=17,
    ),
    "setagaya_sogi": Org(
        "NPO法人せたがやにじいろ相談室（シナリオ）",
        "NPO",
        [SETAGAYA],
        ["SOGI", "LONELY"],
        ["INTERVIEW", "ACCOMPANY"],
        hours("TU,WE,TH,FR,SA,SU", "13:00", "21:00"),
    ),
    "ogasawara_shakyo": shakyo(
        "小笠原村社会福祉協議会（シナリオ）", OGASAWARA, ["INTERVIEW", "OUTREACH", "FOOD"]
    ),
    # ---- 岩手県陸前高田市: rebuilding after a disaster ----------------------------------------
    "takata_shakyo": shakyo(
        "陸前高田市社会福祉協議会（シナリオ）",
        RIKUZENTAKATA,
        ["INTERVIEW", "OUTREACH", "FOOD", "HOUSING", "ACCOMPANY"],
    ),
    "takata_rebuild": Org(
        "NPO法人たかた生活再建ネット（シナリオ）",
        "NPO",
        [RIKUZENTAKATA],
        ["DISASTER", "POVERTY"],
        ["HOUSING", "FOOD", "CASH", "ACCOMPANY"],
        ROUND_THE_CLOCK,
    ),
    # ---- 北海道利尻町: an island town --------------------------------------------------------
    "rishiri_shakyo": shakyo("利尻町社会福祉協議会（シナリオ）", RISHIRI, ["INTERVIEW", "OUTREACH", "FOOD"]),
}


def organisation_id(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


def bodies(webhook_base: str) -> dict[str, dict[str, Any]]:
    """Each organisation's registration, keyed by its id, with the receiver's webhook URL."""
    return {
        organisation_id(key): spec.body() | {"webhook_url": f"{webhook_base}/hooks/{organisation_id(key)}"}
        for key, spec in ORGANISATIONS.items()
    }
