"""The routers of the four services' HTTP edges: `api_router` gives each the error answers and
takes an endpoint's documentation from its docstring, so a route is declared in one line."""

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute

from eventkit.errors import ERROR_RESPONSES


class DocumentedRoute(APIRoute):
    """An endpoint's docstring is its documentation: the first paragraph is the summary, the rest
    the description, each folded onto one line (FastAPI alone puts the whole docstring in the
    description and makes the summary from the function's name)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        summary, _, description = inspect.cleandoc(endpoint.__doc__ or "").partition("\n\n")
        summary = " ".join(summary.split())
        # An included router builds its routes again from these, summary given: same result.
        if summary and kwargs.get("summary") in (None, summary):
            self.summary = summary
            self.description = " ".join(description.split())


def api_router(prefix: str = "/v1", **options: Any) -> APIRouter:
    """A router of a service's API under `prefix`: the error answers documented on every route,
    summaries and descriptions from docstrings; `options` are APIRouter's (tags, dependencies)."""
    return APIRouter(prefix=prefix, responses=ERROR_RESPONSES, route_class=DocumentedRoute, **options)
