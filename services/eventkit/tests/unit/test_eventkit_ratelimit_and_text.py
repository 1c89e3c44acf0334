"""The token bucket of the public edges, and the one validator type of text from outside."""

import pytest
from pydantic import BaseModel, ValidationError

from eventkit.ratelimit import Limit, RateLimiter
from eventkit.text import Line, Text


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_its_burst_through_then_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(Limit(burst=3, per_s=0.5), clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == pytest.approx(2.0)
    assert limiter.take("b") == 0  # another key has its own bucket
    clock.now += 2
    assert limiter.take("a") == 0


def test_the_least_recently_used_keys_are_dropped_past_the_bound() -> None:
    limiter = RateLimiter(Limit(burst=1, per_s=0.001), max_keys=2, clock=Clock())
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")  # "a" is forgotten: memory stays bounded under a flood of new keys
    assert limiter.take("a") == 0
    assert limiter.take("c") > 0


class Form(BaseModel):
    text: Text
    line: Line


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"])
def test_a_control_character_or_lone_surrogate_is_refused_in_text_and_line(character: str) -> None:
    for field in ("text", "line"):
        values = {"text": "ok", "line": "ok", field: f"a{character}b"}
        with pytest.raises(ValidationError) as refused:
            Form.model_validate(values)
        error = refused.value.errors()[0]
        assert error["type"] == "control_character" and error["loc"] == (field,)
        assert character not in error["msg"]  # the reason names the code point, never the input


def test_text_keeps_line_breaks_and_tabs_a_line_does_not() -> None:
    assert Form(text="一行目\r\n二行目\tです", line="ok").text == "一行目\r\n二行目\tです"
    with pytest.raises(ValidationError):
        Form(text="ok", line="two\nlines")
