"""The vocabulary's codes in the words people read them in (Japanese), once for every service: the
#9999 menu's topics (domain brief §1a) and the counsellor's need tags (§1b). notify writes them
into alert e-mails; the directory names its HSDS taxonomy terms with them."""

from collections.abc import Mapping
from typing import Final

TOPIC_JA: Final[Mapping[str, str]] = {
    "LONELY": "孤独・孤立に悩んでいる方",
    "SUICIDAL": "死にたいほどつらい方",
    "POVERTY": "生活に困窮されている方",
    "FOREIGN_LANG": "外国語での相談を希望される方",
    "WOMEN": "女性の悩み(DV・性暴力等)",
    "SOGI": "性別の違和や同性愛に関して",
    "SINGLE_MOTHER": "シングルマザーの方",
    "UNDER18": "18歳以下の方",
    "DISASTER": "被災していて相談したい方",
}
ISSUE_TAG_JA: Final[Mapping[str, str]] = {
    "ISO": "孤独・孤立",
    "MH": "メンタル不調",
    "SUI": "自殺念慮・自傷",
    "HLT": "病気・障害",
    "FAM": "家族・家庭",
    "REL": "人間関係",
    "WRK": "仕事・失業",
    "SCH": "学校・不登校・いじめ",
    "MON": "生活困窮・借金",
    "HOU": "住まい",
    "FOOD": "食料",
    "DV": "DV・性暴力・虐待",
    "CHILD": "子育て・こどもの安全",
    "HIK": "ひきこもり",
    "SOGI": "性的指向・性自認",
    "FRN": "外国人・言語",
    "DIS": "被災",
    "ELD": "高齢・介護",
    "LEG": "法律・消費者被害",
}
