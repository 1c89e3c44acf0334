"""Field types the HTTP and HSDS models share: a name, a mailbox, a language, a postal code."""

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from directory.geography.domain import validate_postal_code
from eventkit.text import check_line

# Constraints first: whitespace is stripped before the length is checked and the line is read.
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(check_line)
]
# A shared organisational mailbox; deliberately loose (full address syntax is not our concern).
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
# A desk's number as people dial it in Japan: digits with optional hyphens, or +81 ….
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9-]{8,15}$")]
PostalCode = Annotated[str, AfterValidator(validate_postal_code)]
