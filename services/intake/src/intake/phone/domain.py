"""The #9999 voice menu: versioned per campaign, digit → topic → desk → hours; and the calls through it.
Pure: no I/O.

A version never changes once created; operators create a new one and activate it, and every call
leg and consultation names the version that routed it.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.hours import JST
from contracts.vocabulary import Topic
from eventkit.errors import Invalid

DEFAULT_FALLBACK_NUMBER = "0120-494949"  # published fallback when a desk does not connect

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")


def parse_hhmm(text: str) -> int:
    """Minutes after midnight; '24:00' is the end of the day."""
    if not _HHMM.match(text):
        raise ValueError(f"{text!r}: a time of day looks like 10:00 (00:00–24:00)")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def to_e164(number: str) -> str:
    """'0120-494949' → '+81120494949'; an E.164 number stays as it is. Japan's trunk prefix is 0."""
    digits = re.sub(r"[\s\-()]", "", number)
    if re.fullmatch(r"\+[1-9][0-9]{6,14}", digits):
        return digits
    if re.fullmatch(r"0[1-9][0-9]{7,10}", digits):
        return "+81" + digits[1:]
    raise ValueError(f"{number!r}: not a Japanese (0…) or E.164 (+…) telephone number")


@dataclass(frozen=True)
class Window:
    """Open from `start` to `end` (minutes, Japan time) on the ISO weekdays listed (all if empty).

    An end at or before the start runs past midnight into the next day.
    """

    start: int
    end: int
    weekdays: frozenset[int] = frozenset()

    def _day_matches(self, weekday: int) -> bool:
        return not self.weekdays or weekday in self.weekdays

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(JST)
        minute = local.hour * 60 + local.minute
        weekday = local.isoweekday()
        if self.start < self.end:
            return self._day_matches(weekday) and self.start <= minute < self.end
        yesterday = 7 if weekday == 1 else weekday - 1
        return (self._day_matches(weekday) and minute >= self.start) or (
            self._day_matches(yesterday) and minute < self.end
        )


@dataclass(frozen=True)
class Hours:
    always: bool = False
    windows: tuple[Window, ...] = ()

    def is_open(self, at: datetime) -> bool:
        return self.always or any(w.contains(at) for w in self.windows)


@dataclass(frozen=True)
class Desk:
    """The answering desk: a partner organisation's line, and when it answers."""

    organisation_id: uuid.UUID
    number: str  # E.164
    hours: Hours


@dataclass(frozen=True)
class MenuOption:
    digit: str
    topic: Topic
    label: str  # read out in Japanese, e.g. 孤独・孤立に悩んでいる方
    desk: Desk | None


class RouteKind(StrEnum):
    DESK = "desk"
    FALLBACK = "fallback"


class RouteReason(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # outside the desk's hours
    OUTSIDE_CAMPAIGN = "outside_campaign"
    NO_DESK = "no_desk"
    NO_CHOICE = "no_choice"  # the caller pressed nothing usable
    DESK_UNANSWERED = "desk_unanswered"  # busy, no answer or failed
    NO_MENU = "no_menu"  # no menu is active


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    number: str
    reason: RouteReason
    option: MenuOption | None


@dataclass(frozen=True)
class VoiceMenu:
    id: uuid.UUID
    campaign: str
    version: int
    greeting: str
    options: tuple[MenuOption, ...]
    fallback_number: str  # E.164
    starts_at: datetime | None
    ends_at: datetime | None
    created_by: str
    created_at: datetime

    def option(self, digit: str) -> MenuOption | None:
        return next((o for o in self.options if o.digit == digit), None)

    def in_campaign(self, at: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= at) and (
            self.ends_at is None or at < self.ends_at
        )

    def prompt(self) -> str:
        """What the caller hears: the greeting, then one sentence per option."""
        sentences = [self.greeting.strip()]
        sentences += [f"{o.label}は、{o.digit}を押してください。" for o in self.options]
        return "".join(s if s.endswith(("。", ".")) else s + "。" for s in sentences if s)

    def route(self, digit: str | None, at: datetime) -> Route:
        """Where a caller who pressed `digit` goes at `at`: the desk if it answers now, else the
        fallback number."""
        option = self.option(digit) if digit else None
        if option is None:
            return Route(RouteKind.FALLBACK, self.fallback_number, RouteReason.NO_CHOICE, None)
        if not self.in_campaign(at):
            return Route(RouteKind.FALLBACK, self.fallback_number, RouteReason.OUTSIDE_CAMPAIGN, option)
        if option.desk is None:
            return Route(RouteKind.FALLBACK, self.fallback_number, RouteReason.NO_DESK, option)
        if not option.desk.hours.is_open(at):
            return Route(RouteKind.FALLBACK, self.fallback_number, RouteReason.CLOSED, option)
        return Route(RouteKind.DESK, option.desk.number, RouteReason.OPEN, option)


def announcement(route: Route) -> str:
    """What the caller hears before being connected: where to, and why not the chosen desk."""
    label = route.option.label if route.option else ""
    return {
        RouteReason.OPEN: f"{label}の相談窓口におつなぎします。",
        RouteReason.CLOSED: f"ただいま{label}の窓口は受付時間外です。別の相談窓口におつなぎします。",
        RouteReason.OUTSIDE_CAMPAIGN: "ただいま受付期間外です。別の相談窓口におつなぎします。",
        RouteReason.NO_DESK: "別の相談窓口におつなぎします。",
        RouteReason.NO_CHOICE: "番号の選択が確認できませんでした。相談窓口におつなぎします。",
        RouteReason.DESK_UNANSWERED: "ただいま窓口が大変混み合っています。別の相談窓口におつなぎします。",
        RouteReason.NO_MENU: "相談窓口におつなぎします。",
    }[route.reason]


INVALID_DIGIT = "その番号はございません。"


class MenuInvalid(Invalid):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The voice menu is invalid: {reason}")


def validate_options(options: tuple[MenuOption, ...]) -> None:
    if not options:
        raise MenuInvalid("a menu needs at least one option")
    digits = [o.digit for o in options]
    if len(set(digits)) != len(digits):
        raise MenuInvalid("each digit may appear once")
    for o in options:
        if o.desk is not None and not o.desk.hours.always and not o.desk.hours.windows:
            raise MenuInvalid(f"digit {o.digit}: a desk needs hours (always, or windows)")


@dataclass(frozen=True)
class MenuDraft:
    """A new version as an operator writes it; the service numbers and stores it."""

    campaign: str
    greeting: str
    fallback_number: str | None
    options: tuple[MenuOption, ...]
    starts_at: datetime | None
    ends_at: datetime | None

    def validate(self) -> None:
        validate_options(self.options)
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise Invalid("The campaign must end after it starts.")


# ---- calls through the menu -----------------------------------------------------------------

MAX_PROMPTS = 2  # the menu is read at most twice before the caller goes to the fallback
UNANSWERED = frozenset({"busy", "no-answer", "failed"})
TERMINAL_CALL_STATES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass(frozen=True)
class CallEvent:
    """One of the provider's webhook calls, taken out of its form."""

    call_sid: str
    caller: str | None
    called: str | None
    digits: str | None
    silence: bool
