"""The HTTP edge every service shares: error bodies, domain errors mapped to HTTP in one table.

The app itself (lifespan, health endpoints, tracing) is built in `eventkit.app`.
"""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from eventkit.errors import (
    NAMED_VALIDATION_ERRORS,
    ApiError,
    Conflict,
    DomainError,
    ErrorDetail,
    Forbidden,
    Invalid,
    NotFound,
    Unavailable,
)

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


# The one table from domain errors to HTTP: a subclass (`Reassigned(Conflict)`) answers with its
# base's status and its own code.
HTTP_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Invalid: 422,
    Unavailable: 502,
}


def status_of(error: DomainError) -> int:
    return next((HTTP_STATUS[kind] for kind in type(error).__mro__ if kind in HTTP_STATUS), 409)


def as_api_error(error: DomainError) -> ApiError:
    """The HTTP answer to a domain error, for an edge that renders it itself (an HTML page)."""
    return ApiError(status_of(error), error.code, error.message, details=error.details)


def _field_path(location: Sequence[Any]) -> str:
    return ".".join(str(part) for part in location)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, error: DomainError) -> JSONResponse:
        answer = as_api_error(error)
        return JSONResponse(answer.body(), status_code=answer.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        # The reason only, never the input: it may be a name or a phone number.
        errors = error.errors()
        details = [
            ErrorDetail(field=_field_path(e.get("loc", ())), reason=str(e.get("msg", "invalid")))
            for e in errors
        ]
        # A check with a name of its own (unknown_municipality …) is the answer's code when it is
        # the only thing wrong, so that a client can act on it without parsing the reason.
        kinds = {str(e.get("type", "")) for e in errors}
        named = kinds.pop() if len(kinds) == 1 and kinds <= NAMED_VALIDATION_ERRORS else None
        if named is not None:
            body = ApiError(422, named, details[0].reason, details=details)
        else:
            body = ApiError(422, "validation_failed", "The request is invalid.", details=details)
        return JSONResponse(body.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(error.status_code, "http_error")
        body = ApiError(error.status_code, code, str(error.detail))
        return JSONResponse(body.body(), status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        log.error("unhandled %s", type(error).__name__, exc_info=error)
        body = ApiError(500, "internal_error", "Something went wrong on our side; it is logged.")
        return JSONResponse(body.body(), status_code=500)
