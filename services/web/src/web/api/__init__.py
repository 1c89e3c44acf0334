"""Typed views of the four services' answers, as web reads them: one module per service.

Hand-written, and checked against each service's OpenAPI (tests/unit/test_web_api_contract.py)
rather than generated from it: web reads a few fields of each answer, and a model of just those
fields is the contract web holds the services to. A generated model would re-list every field of
every answer and change whenever a service adds one; this one changes only when what web reads
does, and the check fails when a service renames or removes such a field, or changes its type.

Web is a tolerant reader: fields it does not read are ignored; vocabularies (states, topics) stay
text, so that a state a service adds shows on a screen rather than breaking it; ids and instants
stay the text the service wrote, since screens only put them in links, `<time datetime>` and
look-up keys (the `jst` filter reads instants) — their formats are checked all the same.
"""

from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter

T = TypeVar("T")


@dataclass(frozen=True)
class Format:
    """The OpenAPI `format` a text field has in the service's answer (checked by the contract test)."""

    name: str


Id = Annotated[str, Format("uuid")]
Instant = Annotated[str, Format("date-time")]
Day = Annotated[str, Format("date")]


class Answer(BaseModel):
    """An answer (or part of one) as web reads it: frozen, and blind to fields web does not read."""

    model_config = ConfigDict(extra="ignore", frozen=True)


@dataclass(frozen=True)
class Endpoint(Generic[T]):
    """One call whose answer a screen reads (a GET, or the record a POST made), with the shape of
    that answer; `path` is the service's OpenAPI path template, filled with the same names
    (`/v1/referrals/{referral_id}`)."""

    service: str
    path: str
    answer: type[T]
    method: str = "GET"
    _adapter: TypeAdapter[T] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_adapter", TypeAdapter(self.answer))

    def url(self, **path: object) -> str:
        return self.path.format(**path)

    def parse(self, body: Any) -> T:
        return self._adapter.validate_python(body)
