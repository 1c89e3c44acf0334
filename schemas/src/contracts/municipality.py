"""全国地方公共団体コード (JIS X 0402 plus the MIC check digit): validation as a pydantic type."""

from typing import Annotated

from pydantic import AfterValidator, Field


def check_digit(code5: str) -> int:
    """The 6th digit: S = 6·d1 + 5·d2 + 4·d3 + 3·d4 + 2·d5, then (11 − S mod 11) mod 10."""
    if len(code5) != 5 or not code5.isascii() or not code5.isdigit():
        raise ValueError(f"{code5!r}: a municipality code body has exactly 5 digits")
    total = sum(weight * int(digit) for weight, digit in zip((6, 5, 4, 3, 2), code5, strict=True))
    return (11 - total % 11) % 10


def validate_municipality_code(code: str) -> str:
    """Return the code if it is 6 digits with a correct check digit; explain the error otherwise."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise ValueError(f"{code!r}: a municipality code has exactly 6 digits (e.g. 131016)")
    prefecture = int(code[:2])
    if not 1 <= prefecture <= 47:
        raise ValueError(f"{code}: prefecture part {code[:2]} is not between 01 and 47")
    expected = check_digit(code[:5])
    if int(code[5]) != expected:
        raise ValueError(f"{code}: check digit should be {expected}")
    return code


def prefecture_of(code: str) -> str:
    """Two-digit JIS X 0401 prefecture code of a municipality code."""
    return code[:2]


MunicipalityCode = Annotated[
    str,
    Field(
        description="6-digit 全国地方公共団体コード with check digit, e.g. 131016 (千代田区)",
        examples=["131016"],
        json_schema_extra={"pattern": "^[0-9]{6}$"},
    ),
    AfterValidator(validate_municipality_code),
]
