"""Hypothesis strategies the directory's property tests share, for random registers (imported
relatively: `from ..strategies`)."""

from datetime import datetime

from hypothesis import strategies as st

from contracts.hours import Weekday, WeeklyRule
from contracts.municipality import check_digit
from contracts.vocabulary import Gender
from directory.register.domain import Capacity, Eligibility


@st.composite
def municipality_codes(draw: st.DrawFn, prefectures: list[str], towns: list[str]) -> str:
    """One of `towns` in one of `prefectures`, with its check digit: few codes, so that random
    coverages often hit, miss and overlap."""
    body = f"{draw(st.sampled_from(prefectures))}{draw(st.sampled_from(towns))}"
    return body + str(check_digit(body))


weekly_rules = st.builds(
    WeeklyRule,
    days=st.frozensets(st.sampled_from(Weekday), min_size=1),
    opens=st.integers(0, 23 * 60),
    closes=st.integers(1, 24 * 60),
)


@st.composite
def eligibilities(draw: st.DrawFn, genders: list[Gender]) -> Eligibility:
    """Any age bounds, either or both open, and any set of `genders`."""
    low = draw(st.none() | st.integers(0, 70))
    return Eligibility(
        minimum_age=low,
        maximum_age=draw(st.none() | st.integers(low or 0, 100)),
        genders=draw(st.frozensets(st.sampled_from(genders))),
    )


def capacities(
    maximum: int, *, updated: datetime, reported_at: st.SearchStrategy[datetime]
) -> st.SearchStrategy[Capacity]:
    """Any number of places free out of `maximum`, as updated and reported then."""
    return st.builds(
        Capacity,
        available=st.integers(0, maximum),
        maximum=st.just(maximum),
        updated=st.just(updated),
        reported_at=reported_at,
    )
