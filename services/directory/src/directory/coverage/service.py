"""The coverage map's use case: the whole country matched at one moment for one kind of need."""

import asyncio
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from directory.context import Context
from directory.coverage.domain import (
    Coverage,
    NeedKind,
    PlaceCoverage,
    PrefectureCoverage,
    count,
    language_for,
    places_of,
    summarise,
    survey,
)
from directory.matching import repository
from eventkit.errors import invalid


@dataclass(frozen=True)
class CoverageMap:
    kind: NeedKind
    language: str
    at: datetime
    places: tuple[PlaceCoverage, ...]  # every place of Japan, by code
    prefectures: tuple[PrefectureCoverage, ...]  # all 47, by code

    @property
    def totals(self) -> dict[Coverage, int]:
        return count(self.places)

    def places_in(self, prefecture_code: str | None) -> tuple[PlaceCoverage, ...]:
        """The places of one prefecture, or of all Japan when none is given."""
        if prefecture_code is None:
            return self.places
        return tuple(p for p in self.places if p.place.prefecture_code == prefecture_code)


async def coverage_map(
    pool: asyncpg.Pool, *, context: Context, kind: NeedKind, language: str | None, at: datetime
) -> CoverageMap:
    """Every place matched as a referral of this kind from there would be at `at`.

    The register is read once — every active listing whose area reaches anywhere in Japan, in one
    indexed query through the same cache the real matches use — and then matched place by place.
    """
    try:
        language = language_for(kind, language)
    except ValueError as error:
        raise invalid("query.language", str(error)) from None
    geography = context.geography
    names = {code: prefecture.name for code, prefecture in geography.prefectures.items()}
    places = places_of(geography.municipalities.values(), names)
    entries: set[str] = set()
    for place in places:
        entries.update(place.area.keys())
    async with pool.acquire() as conn:
        listings = await repository.find_listings(conn, area=sorted(entries), cache=context.listings)
    # Some 1,900 matches are pure CPU work: off the event loop, so that the service goes on
    # answering referral requests and health checks meanwhile.
    surveyed = await asyncio.to_thread(survey, kind, language, places, listings, at=at, policy=context.policy)
    return CoverageMap(kind, language, at, surveyed, summarise(surveyed, names))
