"""The one error body every endpoint returns: {"error": {"code", "message", "details"}}, and the
domain errors a use case raises without knowing HTTP.

A service's domain and use cases raise `DomainError`s (`NotFound`, `Conflict`, `Invalid`,
`Forbidden`, `Unavailable` or their own subclasses, each with a machine code and a message that says
what to do); `eventkit.http` maps each kind to its status in one table. `ApiError` belongs to the
HTTP edge alone.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from contracts import municipality

# Validation failures that answer with a code of their own instead of `validation_failed`.
NAMED_VALIDATION_ERRORS = municipality.ERROR_CODES


class ErrorDetail(BaseModel):
    field: str
    reason: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """Raised anywhere below a route to answer with a clear 4xx (or 5xx) and a machine code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[ErrorDetail] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return ErrorResponse(
            error=ErrorBody(code=self.code, message=self.message, details=self.details)
        ).model_dump()


class DomainError(Exception):
    """A rule refused the request. `code` is machine-readable; the message says what to do."""

    code: ClassVar[str] = "refused"

    def __init__(self, message: str, *, details: Sequence[ErrorDetail] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)


class NotFound(DomainError):
    """No such thing, or not one the caller may see: the two are not told apart."""

    code = "not_found"


class Conflict(DomainError):
    """The request contradicts the current state."""

    code = "conflict"


class Invalid(DomainError):
    """The request is well-formed but a rule finds it wrong; `details` name the fields."""

    code = "validation_failed"


class Forbidden(DomainError):
    code = "forbidden"


class Unavailable(DomainError):
    """Something the use case depends on outside the service refused or did not answer."""

    code = "upstream_unavailable"


def not_found(what: str) -> NotFound:
    return NotFound(f"No {what} with that id is visible to you.")


def invalid(field: str, reason: str, message: str = "The request is invalid.") -> Invalid:
    return Invalid(message, details=[ErrorDetail(field=field, reason=reason)])


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (400, "Bad request"),
        (401, "Missing or invalid bearer token"),
        (403, "The token's role may not do this"),
        (404, "Not found, or not yours"),
        (409, "Conflicts with the current state"),
        (422, "The body or parameters are invalid"),
    )
}
