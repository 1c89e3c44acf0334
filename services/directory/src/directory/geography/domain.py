"""Japan's prefectures, municipalities, designated-city wards and postal codes; where a case is. Pure.

The municipality register is the contracts' (`contracts.municipality`, shared with intake and
notify); the postal codes are directory's own (data/), read by `geography/repository.py`. An
`Area` is where a person is, as the coverage entries that can reach them (the municipality, its
designated city, its prefecture, `JP`); a `Place` is where a search of offices is centred.
"""

import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from contracts.municipality import Kind, Municipality, Prefecture, prefecture_of

NATIONAL = "JP"


class Tier(StrEnum):
    """How closely a service area fits the case's municipality; best first."""

    MUNICIPALITY = "municipality"
    CITY = "city"  # the designated city of the case's ward
    PREFECTURE = "prefecture"
    NATIONAL = "national"


@dataclass(frozen=True)
class Area:
    """Where the person is, as the coverage entries that can reach them, closest first."""

    municipality_code: str
    city_code: str | None  # the designated city, when the municipality is one of its wards
    prefecture_code: str

    @classmethod
    def of(cls, municipality_code: str, city_code: str | None = None) -> "Area":
        return cls(municipality_code, city_code, prefecture_of(municipality_code))

    def keys(self) -> tuple[str, ...]:
        found = [self.municipality_code]
        if self.city_code:
            found.append(self.city_code)
        return (*found, self.prefecture_code, NATIONAL)

    def tier_of(self, coverage: Iterable[str]) -> Tier | None:
        """The best tier by which a coverage reaches this area, or None if it does not."""
        entries = set(coverage)
        if self.municipality_code in entries:
            return Tier.MUNICIPALITY
        if self.city_code and self.city_code in entries:
            return Tier.CITY
        if self.prefecture_code in entries:
            return Tier.PREFECTURE
        if NATIONAL in entries:
            return Tier.NATIONAL
        return None


def area_keys(municipality_code: str, city_code: str | None = None) -> tuple[str, ...]:
    """The coverage entries that reach a municipality: itself, its city, its prefecture, JP."""
    return Area.of(municipality_code, city_code).keys()


@dataclass(frozen=True)
class MunicipalityView:
    """A municipality or ward with what a reader needs beside it: its prefecture, city or wards."""

    code: str
    name: str
    kana: str
    kind: str
    prefecture_code: str
    prefecture_name: str
    county: str | None
    city_code: str | None
    city_name: str | None
    wards: tuple[str, ...]
    latitude: float
    longitude: float


class Geography:
    def __init__(
        self,
        prefectures: Mapping[str, Prefecture],
        municipalities: Mapping[str, Municipality],
        postal_codes: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.prefectures = dict(prefectures)
        self.municipalities = dict(municipalities)
        self._postal = dict(postal_codes)
        wards: dict[str, list[str]] = {}
        for m in self.municipalities.values():
            if m.city_code:
                wards.setdefault(m.city_code, []).append(m.code)
        self._wards = {city: tuple(sorted(codes)) for city, codes in wards.items()}
        self._search_keys: list[tuple[Municipality, tuple[str, ...]]] | None = None

    def municipality(self, code: str) -> Municipality | None:
        return self.municipalities.get(code)

    def city_of(self, code: str) -> str | None:
        """The designated city a ward belongs to; None for anything else (or an unknown code)."""
        found = self.municipalities.get(code)
        return found.city_code if found else None

    def wards_of(self, city_code: str) -> tuple[str, ...]:
        return self._wards.get(city_code, ())

    def area_of(self, municipality_code: str) -> Area:
        # A code the geography does not know (valid check digit, but created after the data's
        # snapshot, or a test's) still matches by itself, its prefecture and JP: no city tier.
        return Area.of(municipality_code, self.city_of(municipality_code))

    def view(self, m: Municipality) -> MunicipalityView:
        city = self.municipality(m.city_code) if m.city_code else None
        return MunicipalityView(
            code=m.code,
            name=m.name,
            kana=m.kana,
            kind=m.kind.value,
            prefecture_code=m.prefecture_code,
            prefecture_name=self.prefectures[m.prefecture_code].name,
            county=m.county or None,
            city_code=m.city_code,
            city_name=city.name if city else None,
            wards=self.wards_of(m.code),
            latitude=m.latitude,
            longitude=m.longitude,
        )

    def by_postal_code(self, postal_code: str) -> tuple[Municipality, ...]:
        """Municipalities (wards for designated cities) a postal code lies in; usually one."""
        return tuple(self.municipalities[c] for c in self._postal.get(normalise_postal_code(postal_code), ()))

    @property
    def postal_code_count(self) -> int:
        return len(self._postal)

    def search(self, text: str, limit: int = 10) -> list[Municipality]:
        """Municipalities and wards by name, reading or prefecture + name, best first.

        Case- and width-insensitive; hiragana matches the katakana reading. Names (or readings)
        that start with the text come first — cities and wards, then towns and villages, which
        are formally named with their county (邑楽郡千代田町), as their readings are written —
        then those that merely contain it; each by code. Wards carry their city in their name
        ("大阪市北区"), so "堺" finds 堺市 and its wards.
        """
        query = normalise_search_text(text)
        if not query or limit < 1:
            return []
        if self._search_keys is None:
            self._search_keys = [(m, self._keys_of(m)) for m in self.municipalities.values()]
        ranked: list[tuple[int, str, Municipality]] = []
        for m, keys in self._search_keys:
            if any(k.startswith(query) for k in keys):
                ranked.append((1 if m.kind in (Kind.TOWN, Kind.VILLAGE) else 0, m.code, m))
            elif any(query in k for k in keys):
                ranked.append((2, m.code, m))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return [m for _, _, m in ranked[:limit]]

    def _keys_of(self, m: Municipality) -> tuple[str, ...]:
        prefecture = self.prefectures.get(m.prefecture_code)
        keys = [m.name, m.kana, m.county + m.name]
        if prefecture is not None:
            keys += [prefecture.name + m.name, prefecture.name + m.county + m.name, prefecture.kana + m.kana]
        return tuple(dict.fromkeys(normalise_search_text(k) for k in keys if k))


def normalise_search_text(text: str) -> str:
    """NFKC (full/half width), case-folded, hiragana → katakana, without spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(
        chr(ord(ch) + 0x60) if "\u3041" <= ch <= "\u3096" else ch for ch in folded if not ch.isspace()
    )


def normalise_postal_code(text: str) -> str:
    """'〒100-0001', '100 0001' and '1000001' → '1000001'; anything else is returned unchanged."""
    return "".join(ch for ch in text if ch not in "〒- ")


def validate_postal_code(text: str) -> str:
    code = normalise_postal_code(text)
    if len(code) != 7 or not code.isascii() or not code.isdigit():
        raise ValueError("a postal code has 7 digits, e.g. 100-0001")
    return code


@dataclass(frozen=True)
class Place:
    """Where a search of offices is centred: the municipalities it names and a reference point."""

    municipalities: tuple[Municipality, ...]
    point: tuple[float, float] | None


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), good to a few metres at these scales."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))
