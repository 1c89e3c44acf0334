"""Text from outside: the one type of every text field a request carries.

PostgreSQL cannot store NUL (it was a 500), and no person types the other control characters or a
lone surrogate half: they hide text from a reader, split a log line or break an encoder further
on. `Text` is free text of several lines (line breaks and tabs allowed, as forms send them);
`Line` is one line — a name, a code, an id — and allows none of them. Either refuses with a 422
whose reason names the character and its place, never the input.

Lengths stay with each field (`Field(max_length=…)`): what is long for a code is short for a
summary. A paging parameter is bounded by `MAX_POSITION`.
"""

import re
from typing import Annotated, Final

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

ERROR_TYPE: Final = "control_character"

# C0 controls but tab, line feed and carriage return; DEL; C1 controls; UTF-16 surrogate halves.
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# …and in one line also the line breaks, the tab and Unicode's line and paragraph separators.
_NOT_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def _refuse(found: re.Match[str], what: str) -> PydanticCustomError:
    return PydanticCustomError(
        ERROR_TYPE,
        "{what} (U+{code_point} at position {position})",
        {"what": what, "code_point": f"{ord(found.group()):04X}", "position": found.start()},
    )


def check_text(value: str) -> str:
    found = _NOT_IN_TEXT.search(value)
    if found is not None:
        raise _refuse(found, "must not contain control characters")
    return value


def check_line(value: str) -> str:
    found = _NOT_IN_LINE.search(value)
    if found is not None:
        raise _refuse(found, "must be one line without control characters")
    return value


# The highest offset, position or sequence number a request may page from: PostgreSQL's integer
# (an offset past 2^63 was a 500 from the database's bigint).
MAX_POSITION: Final = 2**31 - 1

Text = Annotated[str, AfterValidator(check_text)]
Line = Annotated[str, AfterValidator(check_line)]
