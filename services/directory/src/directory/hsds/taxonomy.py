"""The taxonomies the register uses, as HSDS taxonomy / taxonomy_term: fixed by code, not data.

Ids are UUIDv5 of the taxonomy and code, so every deployment (and every export) names the same
term with the same id.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum

from contracts.labels import ISSUE_TAG_JA, TOPIC_JA
from contracts.vocabulary import Gender, IssueTag, Topic
from directory.register.domain import Capability, OrgType, Residency

NAMESPACE = uuid.UUID("6f1d7a52-2b4e-5b8e-9a53-7473756e6167")  # fixed: "tsunag" in its tail


@dataclass(frozen=True)
class Taxonomy:
    id: uuid.UUID
    name: str
    description: str
    version: str = "1"


@dataclass(frozen=True)
class Term:
    id: uuid.UUID
    code: str
    name: str
    description: str
    taxonomy: Taxonomy


def _taxonomy(name: str, description: str) -> Taxonomy:
    return Taxonomy(uuid.uuid5(NAMESPACE, f"taxonomy:{name}"), name, description)


ORG_TYPE = _taxonomy("tsunagu-org-type", "Kinds of Japanese support bodies (domain brief §2)")
TOPIC = _taxonomy("tsunagu-topic", "#9999 voice-menu topics an organisation takes")
CAPABILITY = _taxonomy("tsunagu-capability", "What a service can do for the person")
ISSUE_TAG = _taxonomy("tsunagu-issue-tag", "Needs a counsellor tags on a consultation")
GENDER = _taxonomy("tsunagu-gender", "Genders a service is limited to (eligibility)")
RESIDENCY = _taxonomy("tsunagu-residency", "Who besides the area's residents a service takes")
TAXONOMIES = (ORG_TYPE, TOPIC, CAPABILITY, ISSUE_TAG, GENDER, RESIDENCY)

_NAMES: dict[Taxonomy, dict[str, str]] = {
    ORG_TYPE: {
        "SHAKYO": "社会福祉協議会",
        "JIRITSU": "自立相談支援機関",
        "WELFARE_OFFICE": "福祉事務所",
        "HOUKATSU": "地域包括支援センター",
        "MHWC": "精神保健福祉センター",
        "HOKENJO": "保健所・保健センター",
        "HIKIKOMORI": "ひきこもり地域支援センター",
        "SAPOSTE": "地域若者サポートステーション",
        "DV_CENTER": "配偶者暴力相談支援センター",
        "WOMEN_CENTER": "女性相談支援センター",
        "ONESTOP_SV": "性犯罪・性暴力被害者のためのワンストップ支援センター",
        "CHILD_GUIDANCE": "児童相談所",
        "KODOMO_KATEI": "こども家庭センター",
        "DISABILITY": "基幹相談支援センター等",
        "TEICHAKU": "地域生活定着支援センター",
        "LEGAL": "法テラス・消費生活センター",
        "HELLOWORK": "ハローワーク",
        "NPO": "NPO・民間支援団体",
    },
    TOPIC: dict(TOPIC_JA),
    CAPABILITY: {
        "INTERVIEW": "面談",
        "ACCOMPANY": "同行支援",
        "OUTREACH": "訪問",
        "SHELTER": "一時保護",
        "FOOD": "食料支援",
        "CASH": "貸付・給付",
        "HOUSING": "住まい",
        "JOB": "就労支援",
        "MEDICAL_LINK": "医療機関へのつなぎ",
        "LEGAL": "法律相談",
        "MULTILINGUAL": "多言語対応",
    },
    ISSUE_TAG: dict(ISSUE_TAG_JA),
    GENDER: {"female": "女性", "male": "男性", "other": "その他"},
    RESIDENCY: {"any": "どなたでも", "resident": "在住者", "resident_or_commuter": "在住・在勤・在学者"},
}

# The vocabularies and the taxonomies must not drift apart; checked when the module loads.
for _taxonomy_, _enum in (
    (ORG_TYPE, OrgType),
    (TOPIC, Topic),
    (CAPABILITY, Capability),
    (ISSUE_TAG, IssueTag),
    (RESIDENCY, Residency),
):
    assert set(_NAMES[_taxonomy_]) == {e.value for e in _enum}, _taxonomy_.name
assert set(_NAMES[GENDER]) == {g.value for g in Gender if g is not Gender.UNKNOWN}


def term_id(taxonomy: Taxonomy, code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"term:{taxonomy.name}:{code}")


TERMS: tuple[Term, ...] = tuple(
    Term(term_id(taxonomy, code), code, name, f"{taxonomy.description}: {name}", taxonomy)
    for taxonomy in TAXONOMIES
    for code, name in _NAMES[taxonomy].items()
)
TERMS_BY_ID = {t.id: t for t in TERMS}
TAXONOMIES_BY_ID = {t.id: t for t in TAXONOMIES}


def term(taxonomy: Taxonomy, code: StrEnum | str) -> Term:
    return TERMS_BY_ID[term_id(taxonomy, str(code))]


def find_terms(*, taxonomy_id: uuid.UUID | None, search: str | None) -> list[Term]:
    """Terms of one taxonomy (or all), whose name contains `search` or whose code does, any case."""
    return [
        t
        for t in TERMS
        if (taxonomy_id is None or t.taxonomy.id == taxonomy_id)
        and (not search or search in t.name or search.upper() in t.code.upper())
    ]


def code_of(term_id: uuid.UUID | None) -> str | None:
    """The code a search by term looks for; an unknown term matches nothing rather than everything."""
    if term_id is None:
        return None
    term = TERMS_BY_ID.get(term_id)
    return term.code if term else "-"
