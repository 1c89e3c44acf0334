"""Every text and integer input of an app, found from its routes, and a request that carries a given
value in exactly that input: what each service's bad-input test walks, so that a field added
tomorrow is probed without anyone listing it.

An input is a path or query parameter, a form field, or a field of a JSON body at any depth
(through nested models, lists, dicts and discriminated unions). The other inputs of the request are
left out or filled with plain values: the test looks for the one error that names the probed
field, whatever else the request lacks.
"""

import enum
import inspect
import json
import types
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import httpx
from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.params import Form
from fastapi.routing import APIRoute
from pydantic import AnyUrl, BaseModel

Kind = Literal["text", "integer"]
Place = Literal["path", "query", "body", "form"]
Build = Callable[[Any], Any]
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Input:
    """One input of one route: where it is, what the error about it will name, how to fill it."""

    method: str
    path: str  # the route's template, /v1/things/{thing_id}
    place: Place
    kind: Kind
    location: tuple[str | int, ...]  # as the 422's `details[].field` names it, split at dots
    build: Build = field(compare=False, repr=False)
    path_params: Mapping[str, Any] = field(compare=False, repr=False, default_factory=dict)

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.location)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.field}"

    def request(self, value: Any) -> dict[str, Any]:
        """Keyword arguments of `httpx.AsyncClient.request` that put `value` in this input."""
        params = {name: str(sample) for name, sample in self.path_params.items()}
        query: dict[str, Any] = {}
        answer: dict[str, Any] = {"method": self.method}
        if self.place == "path":
            params[str(self.location[1])] = value
        elif self.place == "query":
            query = self.build(value)
        elif self.place == "form":
            answer["data"] = {key: str(v) for key, v in self.build(value).items()}
        else:
            answer["json"] = self.build(value)
        answer["url"] = self.path.format(**{k: _quote(str(v)) for k, v in params.items()})
        if query:
            answer["params"] = query
        return answer


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def inputs(app: FastAPI, kinds: Sequence[Kind] = ("text", "integer")) -> list[Input]:
    """The inputs of every route of `app` (health and documentation routes have none)."""
    found: list[Input] = []
    for route, path in _routes(app):
        method = sorted((route.methods or {"GET"}) - {"HEAD"})[0]
        found.extend(i for i in _route_inputs(route, method, path) if i.kind in kinds)
    return sorted(set(found), key=lambda i: i.id)


def _routes(app: FastAPI) -> Iterator[tuple[APIRoute, str]]:
    """Each API route with its full path: FastAPI ≥ 0.16x includes routers lazily, each route
    keeping its own path and the router its prefix."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:
        yield from ((r, r.path_format) for r in app.routes if isinstance(r, APIRoute))
        return
    for context in contexts(app.routes):
        if isinstance(context.route, APIRoute):
            yield context.route, context.path_format or context.route.path_format


def in_worker_threads(app: FastAPI) -> list[str]:
    """The endpoints and dependencies of `app` that FastAPI would run in a worker thread: a plain
    `def` is handed to the thread pool on every request, which costs more than such small work."""
    found: set[str] = set()

    def walk(dependant: Dependant) -> None:
        for sub in dependant.dependencies:
            if sub.call is not None and not _runs_on_the_loop(sub.call):
                found.add(f"{sub.call.__module__}.{sub.call.__qualname__}")
            walk(sub)

    for route, path in _routes(app):
        if not _runs_on_the_loop(route.endpoint):
            found.add(f"{path}: {route.endpoint.__qualname__}")
        walk(route.dependant)
    return sorted(found)


def _runs_on_the_loop(call: Any) -> bool:
    if inspect.isroutine(call):
        return inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)
    dunder = getattr(call, "__call__", None)  # noqa: B004  # an instance used as a dependency
    return inspect.iscoroutinefunction(dunder) or inspect.isasyncgenfunction(dunder)


def _all_params(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    for param in dependant.path_params:
        yield "path", param
    for param in dependant.query_params:
        yield "query", param
    for sub in dependant.dependencies:
        yield from _all_params(sub)


def _body_params(dependant: Dependant) -> list[Any]:
    params = list(dependant.body_params)
    for sub in dependant.dependencies:
        params.extend(_body_params(sub))
    return params


def _route_inputs(route: APIRoute, method: str, path: str) -> Iterator[Input]:
    params = list(_all_params(route.dependant))
    samples = {p.alias: _sample(p.field_info.annotation) for where, p in params if where == "path"}

    def make(place: Place, kind: Kind, location: tuple[str | int, ...], build: Build) -> Input:
        return Input(method, path, place, kind, location, build, samples)

    for where, param in params:
        for loc, kind, build in _walk(param.field_info.annotation, (), 0):
            name = param.alias
            if where == "path":
                if loc == ():
                    yield make("path", kind, ("path", name), _same)
            else:
                yield make("query", kind, ("query", name, *loc), _under(name, build))
    body = _body_params(route.dependant)
    forms = [p for p in body if isinstance(p.field_info, Form)]
    for param in forms:
        for loc, kind, _build in _walk(param.field_info.annotation, (), 0):
            if loc == ():
                yield make("form", kind, ("body", param.alias), _under(param.alias, _same))
    json_params = [p for p in body if not isinstance(p.field_info, Form)]
    embed = len(json_params) > 1 or any(getattr(p.field_info, "embed", False) for p in json_params)
    for param in json_params:
        for loc, kind, build in _walk(param.field_info.annotation, (), 0):
            if embed:
                yield make("body", kind, ("body", param.alias, *loc), _under(param.alias, build))
            else:
                yield make("body", kind, ("body", *loc), build)


def _same(value: Any) -> Any:
    return value


def _under(key: str | int, build: Build) -> Build:
    """Build the value of `build` under `key` of a dict."""

    def put(value: Any) -> Any:
        return {key: build(value)}

    return put


def _in_list(build: Build, before: Sequence[Any] = ()) -> Build:
    """Build the value of `build` as the item after `before` in a list."""

    def put(value: Any) -> Any:
        return [*before, build(value)]

    return put


def _tagged(key: str, build: Build, discriminator: str, tag: Any) -> Build:
    def put(value: Any) -> Any:
        return {key: {**build(value), discriminator: tag}}

    return put


def _as_key(plain: Any) -> Build:
    def put(value: Any) -> Any:
        return {value: plain}

    return put


def _sample(annotation: Any) -> Any:
    """A plain value for a path parameter that is not the one probed."""
    annotation = _strip(annotation)
    if annotation is uuid.UUID:
        return uuid.uuid4()
    if annotation is int:
        return 1
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation)).value
    return "x"


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_text(annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return False
    if issubclass(annotation, enum.Enum):
        return False
    return issubclass(annotation, str | AnyUrl)


Leaf = tuple[tuple[str | int, ...], Kind, Build]


def _walk(annotation: Any, loc: tuple[str | int, ...], depth: int) -> Iterator[Leaf]:
    """Each text or integer leaf under `annotation`: its location below here, and how to build the
    value of `annotation` that holds a given leaf value there."""
    annotation = _strip(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if depth > _MAX_DEPTH or origin is Literal:
        return
    if annotation is int:
        yield loc, "integer", _same
    elif _is_text(annotation):
        yield loc, "text", _same
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _model_leaves(annotation, loc, depth)
    elif origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:
            yield from _walk(members[0], loc, depth + 1)
        else:
            # A smart union names the member in the error's location: only the prefix is known.
            for member in members:
                for sub, kind, build in _walk(member, (), depth + 1):
                    yield (*loc, "*", *sub), kind, build
    elif origin in (list, set, frozenset, Sequence) or (origin is tuple and args[-1:] == (Ellipsis,)):
        for sub, kind, build in _walk(args[0], (), depth + 1):
            yield (*loc, 0, *sub), kind, _in_list(build)
    elif origin is tuple:
        for position, member in enumerate(args):
            for sub, kind, build in _walk(member, (), depth + 1):
                before = [_plain(a) for a in args[:position]]
                yield (*loc, position, *sub), kind, _in_list(build, before)
    elif origin in (dict, Mapping):
        for sub, kind, build in _walk(args[1], (), depth + 1):
            yield (*loc, "k", *sub), kind, _under("k", build)
        if _is_text(_strip(args[0])):
            yield (*loc, "[key]"), "text", _as_key(_plain(args[1]))


def _plain(annotation: Any) -> Any:
    annotation = _strip(annotation)
    if annotation is int:
        return 1
    if get_origin(annotation) is Literal:
        return get_args(annotation)[0]
    return _sample(annotation)


def _model_leaves(model: type[BaseModel], loc: tuple[str | int, ...], depth: int) -> Iterator[Leaf]:
    for name, info in model.model_fields.items():
        key = info.alias or name
        discriminator = info.discriminator if isinstance(info.discriminator, str) else None
        members = _union_members(info.annotation) if discriminator else []
        if discriminator and members:
            for member in members:
                tag = _literal_of(member, discriminator)
                for sub, kind, build in _model_leaves(member, (), depth + 1):
                    yield (*loc, key, str(tag), *sub), kind, _tagged(key, build, discriminator, tag)
            continue
        for sub, kind, build in _walk(info.annotation, (), depth + 1):
            yield (*loc, key, *sub), kind, _under(key, build)


def _union_members(annotation: Any) -> list[type[BaseModel]]:
    annotation = _strip(annotation)
    args = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    return [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]


def _literal_of(model: type[BaseModel], name: str) -> Any:
    annotation = _strip(model.model_fields[name].annotation)
    return get_args(annotation)[0] if get_origin(annotation) is Literal else name


# What no text field may take, by name (the test ids), and integers past PostgreSQL's bigint.
CONTROL_CHARACTERS: Final[Mapping[str, str]] = {
    "NUL": "\x00",
    "bell": "\x07",
    "escape": "\x1b",
    "DEL": "\x7f",
    "C1 next line": "\x85",
}
HUGE_INTEGERS: Final = (2**31, 2**63, 2**64, -(2**63) - 1)


async def answer(
    client: httpx.AsyncClient, probed: Input, value: Any, credentials: Sequence[Mapping[str, str]]
) -> httpx.Response:
    """The app's answer to `value` in `probed`, from the first credential it lets through (the
    route's role): a 401 or 403 is a refusal before the input was read."""
    request = probed.request(value)
    if "json" in request:
        # ASCII JSON carries NUL and lone surrogates as escapes, as an attacker would send them.
        request["content"] = json.dumps(request.pop("json"))
        request["headers"] = {"content-type": "application/json"}
    response: httpx.Response | None = None
    for headers in credentials or ({},):
        response = await client.request(**{**request, "headers": {**request.get("headers", {}), **headers}})
        if response.status_code not in (401, 403):
            break
    assert response is not None
    return response


def refusal_problem(response: httpx.Response, probed: Input) -> str | None:
    """None when `response` is a 422 in the error shape naming the probed field; else what is wrong."""
    if response.status_code != 422:
        return f"answered {response.status_code}, not 422"
    try:
        error = response.json()["error"]
        details = error["details"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)
    except (ValueError, KeyError, TypeError, AssertionError):
        return f"a 422 without the error shape: {response.text[:200]}"
    fields = [str(d.get("field", "")) for d in details if isinstance(d, dict)]
    if not any(_names(field_name, probed.location) for field_name in fields):
        return f"no detail names {probed.field}; details name {fields}"
    return None


def _names(field_name: str, location: tuple[str | int, ...]) -> bool:
    """Whether an error's field is this location; "*" (a union's member) stands for one or more parts."""
    parts = field_name.split(".")
    wanted = [str(p) for p in location]
    if "*" not in wanted:
        return parts == wanted
    star = wanted.index("*")
    head, tail = wanted[:star], wanted[star + 1 :]
    return (
        len(parts) > len(head) + len(tail)
        and parts[:star] == head
        and (not tail or parts[-len(tail) :] == tail)
    )


def every_role(private_key: str) -> list[Mapping[str, str]]:
    """Bearer headers of each role, a partner's with an organisation: `answer` tries them in turn."""
    from eventkit.auth import Role
    from eventkit.testing import bearer

    return [bearer(private_key, role, uuid.uuid4() if role is Role.PARTNER else None) for role in Role]
