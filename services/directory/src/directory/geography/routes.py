"""Geography's HTTP edge: municipalities and wards by name or code, and a postal code's."""

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from contracts.municipality import MunicipalityCode
from directory.deps import Ctx
from directory.fields import PostalCode
from directory.geography import service
from eventkit.deps import AnyRole
from eventkit.routing import api_router
from eventkit.text import Line

router = api_router(tags=["geography"])


class MunicipalityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kana: str
    kind: str = Field(description="city | designated_city | special_ward | ward | town | village")
    prefecture_code: str
    prefecture_name: str
    county: str | None
    city_code: str | None = Field(description="For a ward: its designated city.")
    city_name: str | None
    wards: list[str] = Field(description="For a designated city: its wards.")
    latitude: float
    longitude: float


@router.get("/municipalities")
async def search_municipalities(
    _: AnyRole,
    context: Ctx,
    q: Annotated[Line, Query(min_length=1, max_length=50, description="e.g. 千代田, ちよだ, 東京都千代田区")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[MunicipalityOut]:
    """Municipalities and wards by name, reading (kana) or prefecture + name

    Case-insensitive; hiragana matches the katakana reading. Names that start with `q` come before names
    that contain it, then by code. Wards are named with their city (大阪市北区).
    """
    return [MunicipalityOut.model_validate(m) for m in service.search(context.geography, q, limit)]


@router.get("/municipalities/{code}", summary="A municipality or ward")
async def municipality(code: MunicipalityCode, _: AnyRole, context: Ctx) -> MunicipalityOut:
    return MunicipalityOut.model_validate(service.municipality(context.geography, code))


@router.get(
    "/postal_codes/{postal_code}", summary="The municipality (ward) of a postal code; a few codes span two"
)
async def postal_code(postal_code: PostalCode, _: AnyRole, context: Ctx) -> list[MunicipalityOut]:
    return [MunicipalityOut.model_validate(m) for m in service.by_postal_code(context.geography, postal_code)]
