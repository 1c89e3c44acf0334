"""Municipality codes: the check digit of 全国地方公共団体コード."""

import pytest
from pydantic import BaseModel, ValidationError

from contracts.municipality import MunicipalityCode, check_digit, validate_municipality_code

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "code",
    ["011002", "131016", "012025", "271403", "473821", "010006", "130001", "131041"],
)
def test_known_codes_validate(code: str) -> None:
    assert validate_municipality_code(code) == code


def test_check_digit_remainder_zero_gives_one_and_remainder_one_gives_zero() -> None:
    # 47382: S = 6·4+5·7+4·3+3·8+2·2 = 99 → 99 mod 11 = 0 → (11−0) mod 10 = 1
    assert check_digit("47382") == 1


def test_a_wrong_check_digit_names_the_right_one() -> None:
    with pytest.raises(ValueError, match="131017: check digit should be 6"):
        validate_municipality_code("131017")


@pytest.mark.parametrize("bad", ["13101", "1310166", "13101a", "１３１０１６", "481001", "001009"])
def test_malformed_codes_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        validate_municipality_code(bad)


def test_the_pydantic_type_reports_the_reason() -> None:
    class Model(BaseModel):
        code: MunicipalityCode

    with pytest.raises(ValidationError) as caught:
        Model(code="131017")
    assert "check digit should be 6" in str(caught.value)
