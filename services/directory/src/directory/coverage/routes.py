"""The coverage map's HTTP edge: query → `coverage.service.coverage_map` → JSON, or the table as CSV."""

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Response
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from contracts.hours import JST, HoursBasis
from contracts.vocabulary import AgeBand, Gender, IssueTag, Severity, Topic
from directory.coverage import service
from directory.coverage.domain import NEED_TEMPLATES, Coverage, NeedKind, PlaceCoverage, Shade
from directory.deps import Ctx
from directory.geography.domain import Tier
from eventkit.deps import Operator, Pool
from eventkit.downloads import csv_download
from eventkit.routing import api_router

router = api_router(tags=["coverage"])

At = Annotated[
    AwareDatetime,
    Query(
        description="The moment to match at, with its offset: Japan time is +09:00 (%2B09:00 in a URL).",
        examples=["2027-05-03T02:00:00+09:00"],
    ),
]
Need = Annotated[NeedKind, Query(description="The kind of need; see the README's table of templates.")]
Language = Annotated[
    str | None,
    StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"),
    Query(description="foreign_language only: the person's language (default vi).", examples=["vi"]),
]
Prefecture = Annotated[
    str | None,
    StringConstraints(pattern=r"^(0[1-9]|[1-3][0-9]|4[0-7])$"),
    Query(description="Two-digit prefecture code (01–47): list its municipalities.", examples=["13"]),
]


class NeedsOut(BaseModel):
    """The template every place was matched with (its municipality aside)."""

    topic: Topic
    severity: Severity
    need_tags: list[IssueTag]
    age_band: AgeBand
    gender: Gender
    language: str


class PrefectureOut(BaseModel):
    code: str
    name: str
    places: int = Field(description="Municipalities and designated-city wards surveyed.")
    counts: dict[Coverage, int] = Field(description="Places per class; every class, zeros included.")
    shade: Shade = Field(description="all_open | most_open | some_open | not_open | none")


class PlaceOut(BaseModel):
    code: str
    name: str = Field(description="With its prefecture: 大阪府大阪市北区.")
    coverage: Coverage
    organisation_id: uuid.UUID | None = Field(description="The organisation the case would go to.")
    organisation_name: str | None
    tier: Tier | None = Field(description="municipality | city | prefecture | national")
    open_now: bool | None = Field(description="null: its hours are unknown (or nobody was chosen).")
    open_until: datetime | None = Field(description="Japan time, when open and not round the clock.")
    hours_basis: HoursBasis | None

    @classmethod
    def of(cls, surveyed: PlaceCoverage) -> "PlaceOut":
        chosen = surveyed.chosen
        state = chosen.open_state if chosen else None
        return cls(
            code=surveyed.place.code,
            name=surveyed.place.name,
            coverage=surveyed.coverage,
            organisation_id=chosen.organisation.id if chosen else None,
            organisation_name=chosen.organisation.name if chosen else None,
            tier=chosen.tier if chosen else None,
            open_now=state.open_now if state else None,
            open_until=state.open_until.astimezone(JST) if state and state.open_until else None,
            hours_basis=state.basis if state else None,
        )


class CoverageOut(BaseModel):
    at: datetime = Field(description="Japan time.")
    need: NeedKind
    needs: NeedsOut
    places: int
    totals: dict[Coverage, int]
    prefectures: list[PrefectureOut]
    prefecture: str | None
    municipalities: list[PlaceOut] | None = Field(description="The prefecture's places, when one is given.")

    @classmethod
    def of(cls, found: service.CoverageMap, prefecture: str | None) -> "CoverageOut":
        return cls(
            at=found.at.astimezone(JST),
            need=found.kind,
            needs=NeedsOut(**asdict(NEED_TEMPLATES[found.kind]), language=found.language),
            places=len(found.places),
            totals=found.totals,
            prefectures=[
                PrefectureOut(code=p.code, name=p.name, places=p.places, counts=dict(p.counts), shade=p.shade)
                for p in found.prefectures
            ],
            prefecture=prefecture,
            municipalities=[PlaceOut.of(p) for p in found.places_in(prefecture)] if prefecture else None,
        )


@dataclass(frozen=True)
class CoverageQuery:
    found: service.CoverageMap
    prefecture: str | None


async def coverage_query(
    _: Operator,
    pool: Pool,
    context: Ctx,
    at: At,
    need: Need,
    language: Language = None,
    prefecture: Prefecture = None,
) -> CoverageQuery:
    """The map and the table answer the same query: a kind of need at a moment, perhaps one prefecture."""
    found = await service.coverage_map(pool, context=context, kind=need, language=language, at=at)
    return CoverageQuery(found, prefecture)


Surveyed = Annotated[CoverageQuery, Depends(coverage_query)]


@router.get("/coverage")
async def coverage(query: Surveyed) -> CoverageOut:
    """Coverage map: where would a case of this kind go at this moment?

    Every municipality and designated-city ward matched by the ranking itself with the kind's template,
    classed capable_open | capable_unknown_hours | generalist | national_only | none, and the 47 prefectures
    shaded by the share of capable_open places.
    """
    return CoverageOut.of(query.found, query.prefecture)


CSV_COLUMNS = (
    "prefecture_code",
    "prefecture",
    "municipality_code",
    "municipality",
    "coverage",
    "organisation_id",
    "organisation",
    "tier",
    "open_now",
    "open_until",
)


def _csv_row(surveyed: PlaceCoverage, prefecture_names: dict[str, str]) -> tuple[object, ...]:
    row = PlaceOut.of(surveyed)
    prefecture_code = surveyed.place.prefecture_code
    return (
        prefecture_code,
        prefecture_names.get(prefecture_code, ""),
        row.code,
        row.name,
        row.coverage.value,
        row.organisation_id or "",
        row.organisation_name or "",
        row.tier.value if row.tier else "",
        "" if row.open_now is None else str(row.open_now).lower(),
        row.open_until.isoformat(timespec="minutes") if row.open_until else "",
    )


@router.get("/coverage.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def coverage_csv(query: Surveyed) -> Response:
    """The coverage map's table of places (all Japan, or one prefecture) as CSV

    UTF-8 with a byte order mark, so that Excel reads the Japanese names; one header row.
    """
    found, prefecture = query.found, query.prefecture
    names = {p.code: p.name for p in found.prefectures}
    stamp = found.at.astimezone(JST).strftime("%Y%m%dT%H%M")
    filename = f"coverage-{found.kind.value}-{stamp}{'-' + prefecture if prefecture else ''}.csv"
    rows = [CSV_COLUMNS, *(_csv_row(surveyed, names) for surveyed in found.places_in(prefecture))]
    return csv_download(rows, filename=filename)
