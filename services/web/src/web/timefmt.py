"""The one way screens show a time: in Japan time, labelled, whatever the services answered in.

Services answer instants in ISO 8601 (UTC). Every template writes them with the `jst` filter,
which converts to Asia/Tokyo and adds the catalogue's label ("(日本時間)" / "JST"), so a 14:27
alert never reads 「05:27」. `<time datetime>` keeps the service's instant for scripts.
"""

from collections.abc import Mapping
from datetime import UTC, datetime

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from contracts.hours import JST

# How much of the instant each screen needs.
FORMATS: Mapping[str, str] = {
    "datetime": "%Y-%m-%d %H:%M",
    "seconds": "%Y-%m-%d %H:%M:%S",
    "short": "%m-%d %H:%M",
    "time": "%H:%M",
    "date": "%Y-%m-%d",
}
LABEL_KEY = "time.jst"  # "{time}(日本時間)" / "{time} JST"


def to_japan(value: object) -> datetime | None:
    """The instant in Japan time; None for nothing or what is not an instant. A naive datetime is
    taken as UTC, which is what the services store."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(JST)


def japan_time(value: object, fmt: str = "datetime", *, label: str | None = "{time} JST") -> str:
    """The instant as it reads in Japan, in one of FORMATS, inside `label` ("" for nothing, so a
    table's column can carry the label once)."""
    at = to_japan(value)
    if at is None:
        return "" if value in (None, "") else str(value)
    text = at.strftime(FORMATS.get(fmt, FORMATS["datetime"]))
    return label.format(time=text) if label else text


@pass_context
def _jst_filter(context: Context, value: object, fmt: str = "datetime", labelled: bool = True) -> str:
    t = context.get("t")
    label = t(LABEL_KEY) if labelled and callable(t) else ("{time} JST" if labelled else None)
    return japan_time(value, fmt, label=label)


def install(env: Environment) -> None:
    """Every template (pages and the fragments live regions re-render) gets `| jst`."""
    env.filters["jst"] = _jst_filter
