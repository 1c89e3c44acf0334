"""The console's municipality suggestions from directory's rows (name search, codes, postal codes)."""

from web.api.directory import Municipality
from web.console import _municipality_item


def test_a_ward_is_labelled_with_its_prefecture_and_city_and_parses_back_to_its_code() -> None:
    row = Municipality(code="271411", name="堺市堺区", prefecture_name="大阪府", city_name="堺市")
    assert _municipality_item(row) == {"code": "271411", "label": "271411 堺市堺区 (大阪府 堺市)"}


def test_a_municipality_without_a_city_names_only_its_prefecture() -> None:
    row = Municipality(code="131016", name="千代田区", prefecture_name="東京都", city_name=None)
    assert _municipality_item(row)["label"] == "131016 千代田区 (東京都)"
