"""Municipality search by name, reading and prefecture + name (the console's autocomplete)."""

import pytest

from contracts.municipality import Kind
from directory.geography.domain import normalise_search_text
from directory.geography.repository import load

GEO = load()


def codes(text: str, limit: int = 10) -> list[str]:
    return [m.code for m in GEO.search(text, limit)]


def test_a_name_prefix_ranks_first() -> None:
    found = codes("千代田")
    assert found[0] == "131016"  # 千代田区
    # Then towns: 千代田町 (群馬県邑楽郡千代田町) starts with it too, but ranks after the cities.
    assert found.index("105236") > 0


def test_cities_and_wards_rank_before_towns_and_villages_among_prefix_matches() -> None:
    found = GEO.search("大", 50)
    kinds = [m.kind in (Kind.TOWN, Kind.VILLAGE) for m in found]
    assert kinds == sorted(kinds) and kinds[0] is False


def test_a_town_is_found_by_its_bare_name_and_by_its_county() -> None:
    assert codes("千代田町")[0] == "105236"
    assert codes("邑楽郡千代田")[0] == "105236"
    assert codes("群馬県千代田町") == ["105236"]


@pytest.mark.parametrize("text", ["ちよだ", "チヨダ", "ﾁﾖﾀﾞ", "東京都千代田区", "東京都千代田", " 千代田区 "])
def test_reading_width_and_prefecture_plus_name_find_chiyoda(text: str) -> None:
    assert codes(text)[0] == "131016"


def test_a_prefix_of_the_reading_ranks_before_a_reading_that_contains_it() -> None:
    # 千代田区 (チヨダク) starts with it; 千代田町 (オウラグンチヨダマチ) only contains it.
    found = codes("ちよだ")
    assert found.index("131016") < found.index("105236")


def test_a_designated_city_comes_with_its_wards_carrying_the_city_in_their_name() -> None:
    found = GEO.search("堺", 50)
    assert found[0].code == "271403"
    wards = [m for m in found if m.city_code == "271403"]
    assert {m.code for m in wards} == set(GEO.wards_of("271403"))
    assert all(m.name.startswith("堺市") for m in wards)
    assert [m.code for m in found] == sorted(m.code for m in found)  # all prefixes: by code


def test_a_ward_is_found_by_city_and_ward_name() -> None:
    assert codes("大阪市北区") == ["271276"]


def test_prefix_matches_come_before_substring_matches() -> None:
    found = GEO.search("北区", 50)
    prefix = [m for m in found if m.name.startswith("北区")]
    assert prefix and found[: len(prefix)] == prefix
    assert any(m.name == "大阪市北区" for m in found[len(prefix) :])


def test_the_limit_caps_the_results() -> None:
    assert len(codes("市", 5)) == 5
    assert len(codes("市", 50)) == 50
    assert len(codes("市")) == 10
    assert codes("市", 0) == []


@pytest.mark.parametrize("text", ["存在しない町", "zzz", "", "   "])
def test_no_match_is_an_empty_list(text: str) -> None:
    assert codes(text) == []


def test_search_text_is_width_case_and_kana_normalised() -> None:
    assert normalise_search_text("ちよだ ＡＢｃ") == "チヨダabc"
