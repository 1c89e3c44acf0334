"""A service router's routes are declared in one line: the docstring documents the endpoint, the
return annotation names the answer's model, and the error answers are listed on every route."""

from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from eventkit.routing import api_router


class ThingOut(BaseModel):
    name: str


def _operations() -> dict[str, Any]:
    router = api_router(tags=["things"])

    @router.get("/things/{name}")
    async def read_thing(name: str) -> ThingOut:
        """Read one thing

        Any role may read a thing; an unknown name
        answers 404 `not_found`.
        """
        return ThingOut(name=name)

    @router.get("/plain", summary="Given in the decorator")
    async def plain() -> ThingOut:
        return ThingOut(name="plain")

    # As in the services: a sub-domain's router is included into the service's, then the app's.
    service = APIRouter()
    service.include_router(router)
    app = FastAPI()
    app.include_router(service)
    paths: dict[str, Any] = app.openapi()["paths"]
    return {path: methods["get"] for path, methods in paths.items()}


def test_the_docstring_gives_the_summary_and_a_description_folded_onto_one_line() -> None:
    operation = _operations()["/v1/things/{name}"]
    assert operation["summary"] == "Read one thing"
    assert operation["description"] == "Any role may read a thing; an unknown name answers 404 `not_found`."


def test_a_summary_given_in_the_decorator_stands_and_no_description_is_invented() -> None:
    operation = _operations()["/v1/plain"]
    assert operation["summary"] == "Given in the decorator"
    assert "description" not in operation


def test_the_return_annotation_is_the_documented_answer_and_the_error_answers_are_listed() -> None:
    operation = _operations()["/v1/things/{name}"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ThingOut"}
    assert {"401", "403", "404", "422"} <= set(operation["responses"])
    assert operation["tags"] == ["things"]
