"""The scenarios: cases written as a counsellor would record them, each with the organisation that
must be offered first and why. Times are Japan time; the directory is run at each case's moment.

`first` names a scenario organisation by its key (tests/scenarios/directory.py), or a sample
organisation by its full name when the sample directory's prefecture-wide body is the right call.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scenarios.scenario_directory import CHUO, HAMANA, OGASAWARA, RIKUZENTAKATA, RISHIRI, SETAGAYA, TENRYU

from contracts.hours import JST


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


WEDNESDAY_1400 = jst("2027-02-10T14:00")
WEDNESDAY_1630 = jst("2027-02-10T16:30")
WEDNESDAY_0200 = jst("2027-02-10T02:00")
SATURDAY_2000 = jst("2027-02-13T20:00")
KENPO_KINENBI_1000 = jst("2027-05-03T10:00")  # 憲法記念日, a Monday: public offices are closed
MIDORI_NO_HI_0200 = jst("2027-05-04T02:00")  # みどりの日, in the night
NEW_YEARS_EVE_1000 = jst("2026-12-31T10:00")  # 年末年始: public offices are closed until 1/4


@dataclass(frozen=True)
class Scenario:
    name: str
    at: datetime
    first: str  # a scenario organisation's key, or a sample organisation's full name
    why: str
    case: dict[str, Any] = field(default_factory=dict)  # POST /v1/consultations fields

    def body(self, municipality_code: str | None = None) -> dict[str, Any]:
        severity = self.case.get("severity", "S3")
        body: dict[str, Any] = {
            "channel": "phone",
            "lawful_basis": "VITAL_INTEREST_27_1_2" if severity == "S4" else "CONSENT",
            "summary": f"シナリオ: {self.name}",
            "age_band": "unknown",
            "gender": "unknown",
            "language": "ja",
            "need_tags": [],
        } | self.case
        if body["lawful_basis"] == "CONSENT":
            body.setdefault(
                "consent",
                {
                    "items": ["contact", "summary"],
                    "recipient_kind": "local_support_org",
                    "method": "recorded_line",
                    "text_version": "2026-11-v1",
                },
            )
        if severity == "S4":
            body.setdefault("emergency_call", {"service": "119", "called_at": self.at.isoformat()})
        if body["topic"] == "SUICIDAL" or "SUI" in body["need_tags"]:
            # The C-SSRS screener is required with suicidal intent: thoughts with a method, no
            # intent or plan — serious, not yet an emergency unless the counsellor raises it.
            body.setdefault("risk", {"cssrs": CSSRS_THOUGHTS_WITH_A_METHOD})
        return body


CSSRS_THOUGHTS_WITH_A_METHOD = {
    "q1_wish_to_be_dead": True,
    "q2_suicidal_thoughts": True,
    "q3_method": True,
    "q4_intent": False,
    "q5_plan": False,
    "q6_behaviour": False,
}


def case(
    topic: str,
    municipality_code: str,
    severity: str,
    need_tags: list[str],
    *,
    age_band: str,
    gender: str | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """What the counsellor recorded of a case; `Scenario.body` fills in the rest."""
    fields = {
        "topic": topic,
        "municipality_code": municipality_code,
        "severity": severity,
        "need_tags": need_tags,
        "gender": gender,
        "age_band": age_band,
        "language": language,
    }
    return {name: value for name, value in fields.items() if value is not None}


# Cases recorded twice, at two moments: who is offered first changes with the time.

# A man sleeping rough in 中央区.
ROUGH_SLEEPER = case("POVERTY", CHUO, "S3", ["HOU", "FOOD", "MON"], gender="male", age_band="30-64")
# A single mother in 中央区 behind on her rent.
SINGLE_MOTHER_BEHIND_ON_RENT = case(
    "SINGLE_MOTHER", CHUO, "S2", ["MON", "HOU", "CHILD"], gender="female", age_band="30-64"
)
# A woman of 陸前高田市 who lost her house in the earthquake.
EVACUEE = case("DISASTER", RIKUZENTAKATA, "S3", ["DIS", "HOU"], gender="female", age_band="30-64")
# An isolated old man on the Ogasawara islands.
ISOLATED_ISLAND_ELDER = case("LONELY", OGASAWARA, "S3", ["ISO", "ELD"], gender="male", age_band="65+")

SAMPLE_SHIZUOKA_LINE = "【サンプル】静岡県よりそい24時間ネット（サンプル・NPO法人）"
SAMPLE_TOKYO_LINE = "【サンプル】東京都よりそい24時間ネット（サンプル・NPO法人）"
SAMPLE_HAMAMATSU_CHILD = "【サンプル】浜松市児童相談所（サンプル）"

SCENARIOS: tuple[Scenario, ...] = (
    # ---- DV and women --------------------------------------------------------------------------
    Scenario(
        "DV with two children, no safe place tonight",
        WEDNESDAY_1400,
        "dv_shelter",
        "shelter beats the ward's 社協 next door, which cannot shelter",
        case("WOMEN", CHUO, "S3", ["DV", "CHILD"], gender="female", age_band="30-64"),
    ),
    Scenario(
        "DV at 2 a.m., the partner is outside, 110 called",
        WEDNESDAY_0200,
        "dv_shelter",
        "the city's 24-hour shelter, not the prefecture's",
        case("WOMEN", CHUO, "S4", ["DV"], gender="female", age_band="18-29"),
    ),
    Scenario(
        "DV on New Year's Eve, has to leave the flat",
        NEW_YEARS_EVE_1000,
        "dv_shelter",
        "a ward of the city: reached at the city tier; open on 12/31 since it is 24-hour",
        case("WOMEN", HAMANA, "S3", ["DV", "HOU"], gender="female", age_band="30-64"),
    ),
    Scenario(
        "A man hurt by his wife, afraid to go home",
        WEDNESDAY_1400,
        "men_line",
        "women's shelters exclude him; the men's line can shelter him",
        case("LONELY", CHUO, "S3", ["DV"], gender="male", age_band="30-64"),
    ),
    Scenario(
        "A woman hurt by her husband, the men's line must never get her",
        WEDNESDAY_1400,
        "dv_shelter",
        "gender-specific services take only their own",
        case("WOMEN", CHUO, "S3", ["DV"], gender="female", age_band="30-64"),
    ),
    # ---- withdrawal (ひきこもり) ----------------------------------------------------------------
    Scenario(
        "Parents of a son withdrawn for 15 years",
        WEDNESDAY_1400,
        "hikikomori",
        "outreach to a withdrawn person: the ひきこもり centre, not the mental-health centre",
        case("LONELY", HAMANA, "S2", ["HIK", "FAM"], gender="male", age_band="30-64"),
    ),
    Scenario(
        "Withdrawn son threatens to harm himself, 2 a.m.",
        WEDNESDAY_0200,
        SAMPLE_SHIZUOKA_LINE,
        "the centre is closed; the prefecture's 24-hour line can do outreach and medical links",
        case("LONELY", HAMANA, "S3", ["HIK", "FAM", "MH"], gender="male", age_band="18-29"),
    ),
    # ---- foreign residents ---------------------------------------------------------------------
    Scenario(
        "Vietnamese technical intern, lost his job and his dormitory",
        WEDNESDAY_1400,
        "foreign_centre",
        "speaks Vietnamese; the livelihood office (Japanese only) is excluded",
        case("POVERTY", CHUO, "S3", ["MON", "WRK", "FRN"], gender="male", age_band="18-29", language="vi"),
    ),
    Scenario(
        "Brazilian mother, a sick child and no health insurance",
        WEDNESDAY_1400,
        "foreign_centre",
        "Portuguese: the welfare office and the shelter speak Japanese only",
        case(
            "SINGLE_MOTHER",
            HAMANA,
            "S2",
            ["MON", "HLT", "CHILD"],
            gender="female",
            age_band="30-64",
            language="pt",
        ),
    ),
    Scenario(
        "English speaker, suicidal, at 2 a.m.",
        WEDNESDAY_0200,
        "multilingual_line",
        "the 24-hour line in his language; the Japanese-only adult line is excluded",
        case("SUICIDAL", CHUO, "S4", ["SUI", "FRN"], gender="male", age_band="30-64", language="en"),
    ),
    Scenario(
        "Chinese student, lonely since moving here",
        WEDNESDAY_1400,
        "foreign_centre",
        "speaks Chinese and can meet her",
        case("LONELY", CHUO, "S2", ["ISO", "FRN"], gender="female", age_band="18-29", language="zh"),
    ),
    # ---- minors --------------------------------------------------------------------------------
    Scenario(
        "16-year-old girl with suicidal thoughts, after school",
        WEDNESDAY_1630,
        "youth",
        "the youth NPO (10–24) is aimed at her; the adult crisis service (18–64) excludes her",
        case("UNDER18", CHUO, "S3", ["SUI", "SCH"], gender="female", age_band="12-17"),
    ),
    Scenario(
        "14-year-old beaten at home, at night",
        WEDNESDAY_0200,
        SAMPLE_HAMAMATSU_CHILD,
        "child protection: the city's 24-hour 児童相談所",
        case("UNDER18", TENRYU, "S4", ["CHILD", "DV", "FAM"], gender="male", age_band="12-17"),
    ),
    Scenario(
        "17-year-old questioning gender, Saturday evening",
        SATURDAY_2000,
        "setagaya_sogi",
        "the ward's SOGI counselling room, open until 21:00",
        case("SOGI", SETAGAYA, "S2", ["SOGI", "ISO"], gender="other", age_band="12-17"),
    ),
    Scenario(
        "12-year-old not going to school, his mother calls",
        WEDNESDAY_1400,
        "setagaya_child",
        "the ward's 児童相談所 for a minor; the 社協 does not take under-18s",
        case("UNDER18", SETAGAYA, "S2", ["SCH", "FAM"], age_band="12-17"),
    ),
    Scenario(
        "15-year-old abused, Setagaya, weekday",
        WEDNESDAY_1400,
        "setagaya_child",
        "child protection with shelter, in the ward",
        case("UNDER18", SETAGAYA, "S3", ["CHILD", "DV"], gender="female", age_band="12-17"),
    ),
    # ---- rough sleeping and poverty ------------------------------------------------------------
    Scenario(
        "Man sleeping rough on a winter night",
        WEDNESDAY_0200,
        "night_outreach",
        "the night outreach is out now; the offices are closed",
        ROUGH_SLEEPER,
    ),
    Scenario(
        "The same man, on a weekday afternoon",
        WEDNESDAY_1400,
        "jiritsu",
        "the livelihood office can house, feed and fund him",
        ROUGH_SLEEPER,
    ),
    Scenario(
        "Single mother behind on rent",
        WEDNESDAY_1400,
        "welfare_office",
        "the welfare office (public-office hours) can pay and house",
        SINGLE_MOTHER_BEHIND_ON_RENT,
    ),
    Scenario(
        "Single mother behind on rent, asked on New Year's Eve",
        NEW_YEARS_EVE_1000,
        "welfare_office",
        "S2 can wait: queued until the office reopens on 1/4",
        SINGLE_MOTHER_BEHIND_ON_RENT,
    ),
    Scenario(
        "Single mother evicted tonight, New Year's Eve",
        NEW_YEARS_EVE_1000,
        "dv_shelter",
        "S3 cannot wait for the closed office: the city's 24-hour shelter takes mothers",
        case("SINGLE_MOTHER", CHUO, "S3", ["MON", "HOU", "CHILD"], gender="female", age_band="30-64"),
    ),
    Scenario(
        "No money for food in Tenryū, on 憲法記念日",
        KENPO_KINENBI_1000,
        "jiritsu",
        "the welfare office is closed on the holiday; the livelihood office is open Mondays",
        case("POVERTY", TENRYU, "S3", ["MON"], gender="male", age_band="65+"),
    ),
    Scenario(
        "No money for food in Tenryū, in the night of みどりの日",
        MIDORI_NO_HI_0200,
        "night_outreach",
        "everything else is closed; the night outreach can bring food",
        case("POVERTY", TENRYU, "S3", ["MON", "FOOD"], gender="male", age_band="65+"),
    ),
    Scenario(
        "Rent and debts, asked on 憲法記念日 (S2)",
        KENPO_KINENBI_1000,
        "jiritsu",
        "a welfare office with no published hours is not 'open now' on a holiday",
        case("POVERTY", TENRYU, "S2", ["MON", "HOU"], gender="female", age_band="30-64"),
    ),
    # ---- disaster ------------------------------------------------------------------------------
    Scenario(
        "Evacuee who lost her house in the earthquake",
        WEDNESDAY_1400,
        "takata_shakyo",
        "the 社協 can meet her and has housing and food",
        EVACUEE,
    ),
    Scenario(
        "Evacuee with nowhere to sleep, at night",
        WEDNESDAY_0200,
        "takata_rebuild",
        "the 24-hour rebuilding NPO: housing and food now",
        EVACUEE,
    ),
    Scenario(
        "Elderly man alone in temporary housing",
        WEDNESDAY_1400,
        "takata_shakyo",
        "visits (outreach) to an isolated senior",
        case("LONELY", RIKUZENTAKATA, "S2", ["ISO", "ELD", "DIS"], gender="male", age_band="65+"),
    ),
    # ---- remote islands ------------------------------------------------------------------------
    Scenario(
        "Lonely elderly man on Chichijima",
        WEDNESDAY_1400,
        "ogasawara_shakyo",
        "the island's own 社協",
        ISOLATED_ISLAND_ELDER,
    ),
    Scenario(
        "Lonely elderly man on Chichijima, at night",
        WEDNESDAY_0200,
        SAMPLE_TOKYO_LINE,
        "the island office is closed; Tokyo's 24-hour line",
        ISOLATED_ISLAND_ELDER,
    ),
    Scenario(
        "Widow on Rishiri, asked on New Year's Eve",
        NEW_YEARS_EVE_1000,
        "rishiri_shakyo",
        "the island's 社協 keeps its Friday hours (it is not a public office)",
        case("LONELY", RISHIRI, "S2", ["ISO"], gender="female", age_band="65+"),
    ),
    # ---- mental health and hours ---------------------------------------------------------------
    Scenario(
        "Woman in her forties, suicidal, at 2 a.m.",
        WEDNESDAY_0200,
        "adult_crisis",
        "the mental-health centre is closed; the 24-hour adult crisis service is open",
        case("SUICIDAL", CHUO, "S3", ["SUI", "MH"], gender="female", age_band="30-64"),
    ),
    Scenario(
        "70-year-old man, suicidal, weekday",
        WEDNESDAY_1400,
        "mental_health",
        "the adult crisis service (18–64) excludes him; the mental-health centre is open",
        case("SUICIDAL", CHUO, "S3", ["SUI", "MH"], gender="male", age_band="65+"),
    ),
    Scenario(
        "Lonely, Saturday evening, in the ward of an NPO with unknown hours",
        SATURDAY_2000,
        "adult_crisis",
        "known to be open beats hours unknown at S3, even one tier up",
        case("LONELY", CHUO, "S3", ["ISO"], gender="female", age_band="30-64"),
    ),
)
