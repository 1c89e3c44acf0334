"""The one error body every endpoint returns: {"error": {"code", "message", "details"}}."""

from typing import Any

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


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No {what} with that id is visible to you.")


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
