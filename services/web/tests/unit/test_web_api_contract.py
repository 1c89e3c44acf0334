"""web's typed answers (web.api) agree with the services' real OpenAPI: every field web reads exists
in the answer's schema, with a compatible type and format, always present when web requires it,
and never null where web does not expect null. Each service's document is built from its app
(`create_app(settings).openapi()`, harmless settings, nothing started), so a service that renames
or removes a field web reads fails here, not on a screen."""

import importlib
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from web.api import Answer, Endpoint, Format, Id, directory, intake, notify, referral
from web.directory_form import CAPABILITIES, CHANNELS, ORG_TYPES, RESIDENCIES

Schema = Mapping[str, Any]
UNUSED_DSN = "postgresql://unused@127.0.0.1/unused"
UNUSED_KAFKA = "127.0.0.1:9"
SECRET = "a-secret-long-enough-for-the-settings-check-0123456789"

ENDPOINTS: list[Endpoint[Any]] = [
    value
    for module in (intake, referral, directory, notify)
    for value in vars(module).values()
    if isinstance(value, Endpoint)
]


# What each service's settings need beyond a database, a broker and the token key; none is used.
EXTRA_SETTINGS: Mapping[str, Callable[[], dict[str, Any]]] = {
    "intake": lambda: {
        "encryption_keys": generate_keyring_entry(),
        "twilio_auth_token": SECRET,
        "line_channel_secret": SECRET,
        "line_channel_access_token": SECRET,
        "line_api_base_url": "http://127.0.0.1:9",
    },
    "referral": lambda: {
        "link_verify_key": generate_signing_keypair()[1],
        "encryption_keys": generate_keyring_entry(),
    },
    "directory": dict,
    "notify": lambda: {
        "encryption_keys": generate_keyring_entry(),
        "link_signing_key": generate_signing_keypair()[0],
        "public_base_url": "https://notify.example",
    },
}


@cache
def openapi(service: str) -> dict[str, Any]:
    """The service's OpenAPI document, from its app built with harmless settings (nothing runs)."""
    config = importlib.import_module(f"{service}.config")
    main = importlib.import_module(f"{service}.main")
    settings = config.Settings(
        database_url=UNUSED_DSN,
        auth_public_key=generate_signing_keypair()[1],
        kafka_bootstrap_servers=UNUSED_KAFKA,
        **EXTRA_SETTINGS[service](),
    )
    document: dict[str, Any] = main.create_app(settings).openapi()
    return document


# ---- the check ----------------------------------------------------------------------------------


def answer_schema(document: Schema, path: str, method: str = "GET") -> Schema:
    """The schema of a call's successful JSON answer, as the service declares it."""
    operation = document["paths"][path][method.lower()]
    success = next(answer for status, answer in operation["responses"].items() if status.startswith("2"))
    schema: Schema = success["content"]["application/json"]["schema"]
    return schema


def _resolve(document: Schema, schema: Schema) -> Schema:
    while "$ref" in schema or ("allOf" in schema and len(schema["allOf"]) == 1):
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        else:
            schema = schema["allOf"][0]
    return schema


def _options(document: Schema, schema: Schema) -> tuple[list[Schema], bool]:
    """The schema's non-null alternatives, and whether it may be null."""
    schema = _resolve(document, schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf") or [schema]
    resolved = [_resolve(document, a) for a in alternatives]
    return [a for a in resolved if a.get("type") != "null"], any(a.get("type") == "null" for a in resolved)


def _unwrap(annotation: Any) -> tuple[Any, bool, str | None]:
    """The annotation without `| None` and `Annotated`: the type, whether None is allowed, its format."""
    wanted_format = None
    if get_origin(annotation) is Annotated:
        annotation, *extras = get_args(annotation)
        wanted_format = next((e.name for e in extras if isinstance(e, Format)), None)
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        inner, _, inner_format = _unwrap(rest[0] if len(rest) == 1 else Union[tuple(rest)])  # noqa: UP007
        return inner, True, inner_format or wanted_format
    return annotation, False, wanted_format


JSON_TYPES: Mapping[Any, tuple[str, ...]] = {
    str: ("string",),
    int: ("integer",),
    float: ("number", "integer"),
    bool: ("boolean",),
}


def problems(document: Schema, annotation: Any, schema: Schema, where: str) -> Iterator[str]:
    """Where web's annotation and the service's schema disagree; nothing when they agree."""
    python_type, nullable, wanted_format = _unwrap(annotation)
    alternatives, may_be_null = _options(document, schema)
    if may_be_null and not nullable:
        yield f"{where}: the service may answer null, web does not expect it"
    for option in alternatives:
        yield from _type_problems(document, python_type, wanted_format, option, where)


def _type_problems(
    document: Schema, python_type: Any, wanted_format: str | None, schema: Schema, where: str
) -> Iterator[str]:
    if python_type is Any:
        return
    origin = get_origin(python_type)
    declared = schema.get("type")
    if isinstance(python_type, type) and issubclass(python_type, BaseModel):
        yield from model_problems(document, python_type, schema, where)
    elif origin in (list, tuple, Sequence):
        if declared != "array":
            yield f"{where}: web reads a list, the service answers {declared}"
            return
        yield from problems(document, get_args(python_type)[0], schema.get("items", {}), f"{where}[]")
    elif origin is dict:
        if declared != "object":
            yield f"{where}: web reads an object, the service answers {declared}"
            return
        values = schema.get("additionalProperties")
        if isinstance(values, Mapping):
            yield from problems(document, get_args(python_type)[1], values, f"{where}{{}}")
    elif declared not in JSON_TYPES.get(python_type, ()):
        yield f"{where}: web reads {getattr(python_type, '__name__', python_type)}, the service answers {declared}"
    elif wanted_format is not None and schema.get("format") != wanted_format:
        yield f"{where}: web reads a {wanted_format}, the service's format is {schema.get('format')}"


def model_problems(document: Schema, model: type[BaseModel], schema: Schema, where: str) -> Iterator[str]:
    schema = _resolve(document, schema)
    properties: Mapping[str, Schema] = schema.get("properties", {})
    always = set(schema.get("required", ()))
    for name, field in model.model_fields.items():
        key = field.alias or name
        here = f"{where}.{key}"
        if key not in properties:
            yield f"{here}: web reads it, the service's answer has no such field"
            continue
        if field.is_required() and key not in always:
            yield f"{here}: web requires it, the service may leave it out"
        # pydantic keeps a field's own `Annotated` metadata (its Format) beside the annotation.
        annotation = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        yield from problems(document, annotation, properties[key], here)


def endpoint_problems(document: Schema, endpoint: Endpoint[Any]) -> list[str]:
    where = f"{endpoint.service} {endpoint.method} {endpoint.path}"
    if endpoint.method.lower() not in document["paths"].get(endpoint.path, {}):
        return [f"{where}: the service has no such endpoint"]
    schema = answer_schema(document, endpoint.path, endpoint.method)
    return list(problems(document, endpoint.answer, schema, where))


# ---- the tests ----------------------------------------------------------------------------------


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models an annotation names, and the models their fields name, all the way down."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    for argument in get_args(annotation):
        yield from _models_in(argument)


def test_web_reads_every_service_through_typed_answers_each_model_behind_an_endpoint() -> None:
    assert {e.service for e in ENDPOINTS} == set(EXTRA_SETTINGS)
    checked = {model for e in ENDPOINTS for model in _models_in(e.answer)}
    declared = {
        value
        for module in (intake, referral, directory, notify)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Answer) and value.__module__ == module.__name__
    }
    assert declared - checked == set()  # a model no endpoint answers with would go unchecked


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.service} {e.method} {e.path}")
def test_every_field_web_reads_is_in_the_services_openapi_with_a_compatible_type(
    endpoint: Endpoint[Any],
) -> None:
    assert endpoint_problems(openapi(endpoint.service), endpoint) == []


def _without(document: Schema, component: str, field: str) -> dict[str, Any]:
    schemas = dict(document["components"]["schemas"])
    properties = {k: v for k, v in schemas[component]["properties"].items() if k != field}
    schemas[component] = {
        **schemas[component],
        "properties": properties,
        "required": [r for r in schemas[component].get("required", []) if r != field],
    }
    return {**document, "components": {**document["components"], "schemas": schemas}}


def test_a_field_web_reads_that_a_service_renames_or_removes_fails_the_check() -> None:
    document = openapi("referral")
    component = answer_schema(document, referral.REFERRAL.path)["$ref"].rsplit("/", 1)[-1]
    found = endpoint_problems(_without(document, component, "actions"), referral.REFERRAL)
    assert found == [
        f"referral GET {referral.REFERRAL.path}.actions: web reads it, the service's answer has no such field"
    ]


def test_a_field_that_turns_optional_or_nullable_or_changes_type_or_format_fails_the_check() -> None:
    class Strict(BaseModel):
        name: str
        count: int
        case_id: Id

    document: dict[str, Any] = {"components": {"schemas": {}}}
    schema = {
        "type": "object",
        "properties": {
            "name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "count": {"type": "string"},
            "case_id": {"type": "string"},
        },
        "required": ["count", "case_id"],
    }
    assert list(model_problems(document, Strict, schema, "x")) == [
        "x.name: web requires it, the service may leave it out",
        "x.name: the service may answer null, web does not expect it",
        "x.count: web reads int, the service answers string",
        "x.case_id: web reads a uuid, the service's format is None",
    ]


@pytest.mark.parametrize(
    ("choices", "schema"),
    [(ORG_TYPES, "OrgType"), (CAPABILITIES, "Capability"), (CHANNELS, "Channel"), (RESIDENCIES, "Residency")],
    ids=["org types", "capabilities", "channels", "residency"],
)
def test_the_directory_forms_choices_are_exactly_the_values_directory_accepts(
    choices: Sequence[str], schema: str
) -> None:
    """web cannot import directory's vocabularies; a value added there must not be missing here."""
    assert sorted(choices) == sorted(openapi("directory")["components"]["schemas"][schema]["enum"])
