"""The generated geography (data/): counts, check digits, known codes, wards and postal codes."""

from collections import Counter

import pytest

from contracts.municipality import Kind, check_digit
from directory.geography.repository import load

GEO = load()


def test_there_are_47_prefectures_with_their_own_codes() -> None:
    assert len(GEO.prefectures) == 47
    assert [p.code for p in GEO.prefectures.values()] == [f"{n:02d}" for n in range(1, 48)]
    assert (GEO.prefectures["01"].code6, GEO.prefectures["01"].name) == ("010006", "北海道")
    assert (GEO.prefectures["13"].code6, GEO.prefectures["13"].name) == ("130001", "東京都")


def test_japan_has_1741_municipalities_and_171_wards_of_20_designated_cities() -> None:
    kinds = Counter(m.kind for m in GEO.municipalities.values())

    # 1,718 市町村 (792 cities of which 20 designated, 743 towns, 183 villages) + 23 特別区.
    assert kinds[Kind.CITY] + kinds[Kind.DESIGNATED_CITY] == 792
    assert kinds[Kind.DESIGNATED_CITY] == 20
    assert (kinds[Kind.TOWN], kinds[Kind.VILLAGE], kinds[Kind.SPECIAL_WARD]) == (743, 183, 23)
    assert sum(1 for m in GEO.municipalities.values() if m.is_municipality) == 1741
    # Since 2024-01 浜松市 has 3 wards instead of 7, so the 175 of older lists is now 171.
    assert kinds[Kind.WARD] == 171


def test_every_code_carries_its_check_digit() -> None:
    for code in GEO.municipalities:
        assert len(code) == 6 and int(code[5]) == check_digit(code[:5]), code


@pytest.mark.parametrize(
    ("code", "name", "kind"),
    [
        ("011002", "札幌市", Kind.DESIGNATED_CITY),
        ("131016", "千代田区", Kind.SPECIAL_WARD),
        ("271403", "堺市", Kind.DESIGNATED_CITY),
        ("473821", "与那国町", Kind.TOWN),
        ("012025", "函館市", Kind.CITY),
        ("133817", "三宅村", Kind.VILLAGE),
    ],
)
def test_known_codes_name_the_right_place(code: str, name: str, kind: Kind) -> None:
    found = GEO.municipality(code)

    assert found is not None
    assert (found.name, found.kind, found.prefecture_code) == (name, kind, code[:2])


def test_wards_belong_to_their_city_by_the_explicit_table_not_by_arithmetic() -> None:
    # 浜松市 is 22130 but its wards since 2024 are 22138–22140; 大阪市 27100 has 27102–27128.
    assert GEO.city_of("221384") == "221309"  # 浜松市中央区
    assert GEO.wards_of("221309") == ("221384", "221392", "221406")
    assert len(GEO.wards_of("271004")) == 24
    assert GEO.city_of("271284") == "271004"  # 大阪市中央区
    assert GEO.city_of("011011") == "011002"  # 札幌市中央区
    assert GEO.city_of("131016") is None
    for m in GEO.municipalities.values():
        if m.kind is Kind.WARD:
            city = GEO.municipality(m.city_code or "")
            assert city is not None and city.kind is Kind.DESIGNATED_CITY
            assert m.name.startswith(city.name) and m.prefecture_code == city.prefecture_code


def test_towns_and_villages_keep_their_county_apart_from_their_name() -> None:
    yonaguni = GEO.municipality("473821")

    assert yonaguni is not None and (yonaguni.county, yonaguni.name) == ("八重山郡", "与那国町")


def test_postal_codes_lead_to_their_municipality_or_ward() -> None:
    assert GEO.postal_code_count > 120_000
    assert [m.code for m in GEO.by_postal_code("100-0001")] == ["131016"]
    assert [m.code for m in GEO.by_postal_code("〒060-0001")] == ["011011"]  # 札幌市中央区
    assert [m.code for m in GEO.by_postal_code("907-1801")] == ["473821"]  # 与那国町
    assert GEO.by_postal_code("000-0000") == ()


def test_every_municipality_has_a_reference_point_in_japan() -> None:
    for m in GEO.municipalities.values():
        assert 20 < m.latitude < 46 and 122 < m.longitude < 154, m.code
