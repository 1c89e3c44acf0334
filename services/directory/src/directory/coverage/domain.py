"""The coverage map: for one kind of need at one moment, where each place of Japan's case would go. Pure.

Every place is ranked by `matching.ranking.match` itself — the function the real handoff and the
dry run use — with the needs of a fixed template, so that the map answers "at 02:00 on 憲法記念日,
where would a DV case from here be handed?" exactly as a handoff then would. A place's class
reads only the match's chosen candidate; a prefecture's shade only its places' classes.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.municipality import Kind, Municipality
from contracts.vocabulary import AgeBand, Gender, IssueTag, Severity, Topic
from directory.geography.domain import Area, Tier
from directory.matching.domain import JAPANESE, Candidate, Listing, MatchPolicy, MatchResult, ReferralNeeds
from directory.matching.ranking import match
from eventkit.build import from_attributes


class NeedKind(StrEnum):
    """The kinds of need operators plan a campaign around (the closed list the map is drawn for)."""

    DV_SHELTER = "dv_shelter"
    MINOR_AT_RISK = "minor_at_risk"
    FOREIGN_LANGUAGE = "foreign_language"
    HIKIKOMORI = "hikikomori"
    HOMELESSNESS = "homelessness"
    SUICIDE_RISK = "suicide_risk"


@dataclass(frozen=True)
class NeedTemplate:
    """A typical serious case of one kind: every input of `ReferralNeeds` but the place."""

    topic: Topic
    severity: Severity
    need_tags: tuple[IssueTag, ...]
    age_band: AgeBand
    gender: Gender

    def needs(self, municipality_code: str, language: str) -> ReferralNeeds:
        return from_attributes(ReferralNeeds, self, municipality_code=municipality_code, language=language)


# Serious (S3/S4) throughout: a campaign night asks who can take a case *now*, and for serious
# needs match excludes whoever is known to be closed. Age and gender are set where they define
# the kind (a woman for a DV shelter, a teenager for a minor at risk); otherwise the working-age
# band 30–64, and "unknown" for suicide risk, which a caller of any age may be at.
NEED_TEMPLATES: Mapping[NeedKind, NeedTemplate] = {
    NeedKind.DV_SHELTER: NeedTemplate(Topic.WOMEN, Severity.S3, (IssueTag.DV,), AgeBand.ADULT, Gender.FEMALE),
    NeedKind.MINOR_AT_RISK: NeedTemplate(
        Topic.UNDER18, Severity.S3, (IssueTag.CHILD,), AgeBand.TEEN, Gender.UNKNOWN
    ),
    NeedKind.FOREIGN_LANGUAGE: NeedTemplate(
        Topic.FOREIGN_LANG, Severity.S3, (IssueTag.FRN,), AgeBand.ADULT, Gender.UNKNOWN
    ),
    NeedKind.HIKIKOMORI: NeedTemplate(
        Topic.LONELY, Severity.S3, (IssueTag.HIK,), AgeBand.ADULT, Gender.UNKNOWN
    ),
    NeedKind.HOMELESSNESS: NeedTemplate(
        Topic.POVERTY, Severity.S3, (IssueTag.HOU, IssueTag.MON), AgeBand.ADULT, Gender.UNKNOWN
    ),
    NeedKind.SUICIDE_RISK: NeedTemplate(
        Topic.SUICIDAL, Severity.S4, (IssueTag.SUI,), AgeBand.UNKNOWN, Gender.UNKNOWN
    ),
}
# Vietnamese unless asked otherwise: Vietnam's are the second-largest group of foreign residents
# after China's (出入国在留管理庁's 在留外国人統計).
DEFAULT_FOREIGN_LANGUAGE = "vi"


def language_for(kind: NeedKind, requested: str | None) -> str:
    """The person's language: Japanese, except for a foreign-language need (default Vietnamese)."""
    if kind is NeedKind.FOREIGN_LANGUAGE:
        if requested == JAPANESE:
            raise ValueError("a foreign-language need is in a language other than Japanese")
        return requested or DEFAULT_FOREIGN_LANGUAGE
    if requested is not None and requested != JAPANESE:
        raise ValueError(f"a language applies to {NeedKind.FOREIGN_LANGUAGE.value} only")
    return JAPANESE


class Coverage(StrEnum):
    """How one place's case would be taken, best first."""

    CAPABLE_OPEN = "capable_open"  # a local organisation that can do it all, known to be open
    CAPABLE_UNKNOWN_HOURS = "capable_unknown_hours"  # … that can, but whose hours are unknown
    GENERALIST = "generalist"  # the best local one lacks a capability the case needs
    NATIONAL_ONLY = "national_only"  # nobody local: a national line
    NONE = "none"  # nobody at all


def classify(result: MatchResult) -> Coverage:
    """The class of one place, from its match alone: where the case would go, as ranked."""
    if not result.needs.needs_open_now:
        # For S2 and below a closed organisation is ranked (queued) rather than excluded, and
        # "capable but closed" is a class this map does not have.
        raise ValueError("coverage is classified for serious (S3/S4) needs only")
    chosen = result.chosen
    if chosen is None:
        return Coverage.NONE
    # The ranking puts every local candidate before every national one, and the capable before
    # the incapable: a national or incapable first choice means nobody better was there.
    if chosen.tier is Tier.NATIONAL:
        return Coverage.NATIONAL_ONLY
    if not chosen.capable:
        return Coverage.GENERALIST
    # A known-closed organisation is excluded for serious needs, so this is open or unknown.
    return Coverage.CAPABLE_OPEN if chosen.open_state.open_now else Coverage.CAPABLE_UNKNOWN_HOURS


@dataclass(frozen=True)
class Place:
    """Where people live and a case is matched from: a municipality, or a designated city's ward."""

    area: Area
    name: str  # with its prefecture, for people to read: 大阪府大阪市北区

    @property
    def code(self) -> str:
        return self.area.municipality_code

    @property
    def prefecture_code(self) -> str:
        return self.area.prefecture_code


def places_of(
    municipalities: Iterable[Municipality], prefecture_names: Mapping[str, str]
) -> tuple[Place, ...]:
    """Every place a case can come from, by code. A designated city's own code is left out: a
    case there is recorded under one of its wards, which stand for it (and reach its city tier)."""
    return tuple(
        Place(Area.of(m.code, m.city_code), prefecture_names.get(m.prefecture_code, "") + m.name)
        for m in sorted(municipalities, key=lambda m: m.code)
        if m.kind is not Kind.DESIGNATED_CITY
    )


@dataclass(frozen=True)
class PlaceCoverage:
    place: Place
    coverage: Coverage
    chosen: Candidate | None


def survey(
    kind: NeedKind,
    language: str,
    places: Iterable[Place],
    listings: Iterable[Listing],
    *,
    at: datetime,
    policy: MatchPolicy,
) -> tuple[PlaceCoverage, ...]:
    """Match every place at `at` and classify it.

    Each place is matched with the listings whose area reaches it — what `matching.service.rank`
    reads for a real referral from there — picked out of one index by coverage entry, so that the
    whole country is one pass over the register rather than a query per place.
    """
    template = NEED_TEMPLATES[kind]
    by_entry: dict[str, list[Listing]] = {}
    for listing in listings:
        for entry in dict.fromkeys(listing.service.coverage):
            by_entry.setdefault(entry, []).append(listing)
    surveyed = []
    for place in places:
        entries = place.area.keys()
        # A service covering a place and its prefecture is one listing, not two.
        reaching = {listing.service.id: listing for key in entries for listing in by_entry.get(key, ())}
        result = match(
            template.needs(place.code, language), reaching.values(), area=place.area, at=at, policy=policy
        )
        surveyed.append(PlaceCoverage(place, classify(result), result.chosen))
    return tuple(surveyed)


class Shade(StrEnum):
    """A prefecture's colour on the map, from the share of its places with a capable open one."""

    ALL_OPEN = "all_open"  # green: every place
    MOST_OPEN = "most_open"  # light green: at least half
    SOME_OPEN = "some_open"  # yellow: fewer than half, but some
    NOT_OPEN = "not_open"  # orange: none; cases go to hours-unknown, generalist or national ones
    NONE = "none"  # red: no place's case would be taken by anybody


def shade_of(counts: Mapping[Coverage, int]) -> Shade:
    total = sum(counts.values())
    open_places = counts.get(Coverage.CAPABLE_OPEN, 0)
    if total == 0 or counts.get(Coverage.NONE, 0) == total:
        return Shade.NONE
    if open_places == total:
        return Shade.ALL_OPEN
    if 2 * open_places >= total:
        return Shade.MOST_OPEN
    return Shade.SOME_OPEN if open_places else Shade.NOT_OPEN


@dataclass(frozen=True)
class PrefectureCoverage:
    code: str
    name: str
    counts: Mapping[Coverage, int]  # every class, zeros included

    @property
    def places(self) -> int:
        return sum(self.counts.values())

    @property
    def shade(self) -> Shade:
        return shade_of(self.counts)


def count(surveyed: Iterable[PlaceCoverage]) -> dict[Coverage, int]:
    found = Counter(s.coverage for s in surveyed)
    return {c: found[c] for c in Coverage}


def summarise(
    surveyed: Iterable[PlaceCoverage], prefecture_names: Mapping[str, str]
) -> tuple[PrefectureCoverage, ...]:
    """One summary per prefecture (all of them, by code), counting its places by class."""
    by_prefecture: dict[str, list[PlaceCoverage]] = {code: [] for code in prefecture_names}
    for s in surveyed:
        by_prefecture.setdefault(s.place.prefecture_code, []).append(s)
    return tuple(
        PrefectureCoverage(code, prefecture_names.get(code, code), count(found))
        for code, found in sorted(by_prefecture.items())
    )
