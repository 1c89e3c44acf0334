"""Calls to the four services' HTTP APIs, always with the signed-in user's own bearer token.

The web layer never reads another service's database and never widens a role: whatever a
service refuses to this user, the screen refuses too.
"""

import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from web.api import Endpoint

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICES = ("intake", "referral", "directory", "notify")


class BackendError(Exception):
    """A service answered with an error body (kept for the screen: code, message, details)."""

    def __init__(self, service: str, status: int, code: str, message: str, details: list[Any]) -> None:
        super().__init__(f"{service}: {status} {code}")
        self.service = service
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    @property
    def not_found(self) -> bool:
        return self.status == 404


class NotYetAvailable(BackendError):
    """The service does not serve this endpoint (yet): the screen says so instead of failing."""


class Unreachable(BackendError):
    """The service did not answer at all."""


class Unreadable(BackendError):
    """The service answered in a shape web cannot read (its OpenAPI and web.api disagree)."""


async def refusal(call: Awaitable[object], *statuses: int) -> BackendError | None:
    """None once the call is done; the service's error if it refused with one of `statuses`, for the
    screen to show (a 409 of a case that moved on, a 422 of a value it would not take). Any other
    error is raised."""
    try:
        await call
    except BackendError as error:
        if error.status not in statuses:
            raise
        return error
    return None


def _route_missing(response: httpx.Response, body: Any) -> bool:
    if response.status_code == 405:
        return True
    if response.status_code != 404:
        return False
    # An unknown path: FastAPI's bare {"detail": "Not Found"}, or the services' error envelope
    # around that same text. An application's 404 names what it did not find.
    if not isinstance(body, dict):
        return True
    if body.get("detail") == "Not Found":
        return True
    error = body.get("error")
    return isinstance(error, dict) and error.get("message") == "Not Found"


@dataclass
class Backends:
    """One pooled HTTP client per service; built once in main.py."""

    urls: dict[str, str]
    timeout_s: float = 10.0
    _clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def client(self, service: str) -> httpx.AsyncClient:
        if service not in self._clients:
            self._clients[service] = httpx.AsyncClient(base_url=self.urls[service], timeout=self.timeout_s)
        return self._clients[service]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        request_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        request_headers.update(headers or {})
        clean_params = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        try:
            response = await self.client(service).request(
                method, path, json=json, params=clean_params, headers=request_headers
            )
        except httpx.HTTPError as error:
            log.warning("%s unreachable: %s", service, type(error).__name__)
            raise Unreachable(service, 503, "unreachable", f"{service} did not answer", []) from error
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = None
        if response.is_success:
            return body
        if _route_missing(response, body):
            raise NotYetAvailable(service, response.status_code, "not_available", f"{method} {path}", [])
        envelope = body.get("error", {}) if isinstance(body, dict) else {}
        raise BackendError(
            service,
            response.status_code,
            str(envelope.get("code", "http_error")),
            str(envelope.get("message", response.reason_phrase)),
            list(envelope.get("details", [])),
        )

    async def answer(
        self,
        endpoint: Endpoint[T],
        *,
        token: str,
        path: Mapping[str, object] | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> T:
        """The call's answer as web's typed model of it (web.api); `path` fills the endpoint's path."""
        url = endpoint.url(**(path or {}))
        body = await self.call(
            endpoint.service, endpoint.method, url, token=token, json=json, params=params, headers=headers
        )
        try:
            return endpoint.parse(body)
        except ValidationError as error:
            # Where, never what: the values may be a person's details (and so is the error's text,
            # which is why it is not chained either).
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
            log.warning(
                "%s %s %s: an answer web cannot read at %s",
                endpoint.service,
                endpoint.method,
                endpoint.path,
                fields[:5],
            )
            raise Unreadable(
                endpoint.service, 502, "unreadable", f"{endpoint.method} {endpoint.path}", []
            ) from None
