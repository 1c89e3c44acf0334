"""Looking places up: a municipality or ward by name, code or postal code, and where a search is
centred. Reference data only, so no transaction; an unknown code or postal code is `Invalid`."""

from contracts.municipality import Municipality
from directory.geography.domain import Geography, MunicipalityView, Place
from eventkit.errors import invalid


def search(geography: Geography, text: str, limit: int) -> list[MunicipalityView]:
    return [geography.view(m) for m in geography.search(text, limit)]


def municipality(geography: Geography, code: str) -> MunicipalityView:
    found = geography.municipality(code)
    if found is None:
        raise invalid("path.code", f"{code}: not a municipality in the geography")
    return geography.view(found)


def by_postal_code(geography: Geography, postal_code: str) -> list[MunicipalityView]:
    found = geography.by_postal_code(postal_code)
    if not found:
        raise invalid("path.postal_code", "no municipality has this postal code")
    return [geography.view(m) for m in found]


def place_of(
    geography: Geography,
    *,
    municipality_code: str | None,
    postal_code: str | None,
    latitude: float | None,
    longitude: float | None,
) -> Place | None:
    """Where a search is centred: a municipality or a postal code's, and a point (given, or the
    municipality's reference point); None when nothing names a place."""
    found: tuple[Municipality, ...] = ()
    if municipality_code:
        m = geography.municipality(municipality_code)
        if m is None:
            raise invalid(
                "query.municipality_code", f"{municipality_code}: not a municipality in the geography"
            )
        found = (m,)
    elif postal_code:
        found = geography.by_postal_code(postal_code)
        if not found:
            raise invalid("query.postcode", "no municipality has this postal code")
    point = (latitude, longitude) if latitude is not None and longitude is not None else None
    if point is None and found:
        # The municipality's reference point stands in for the postal code's centroid, which no
        # offline source has.
        point = (found[0].latitude, found[0].longitude)
    if not found and point is None:
        return None
    return Place(found, point)
