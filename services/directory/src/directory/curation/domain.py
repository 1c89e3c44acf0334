"""Finding organisations in the whole register, and confirming entries with them. Pure.

An operator looks for an organisation by name, by the area it takes cases from, by its type and
by what it can do; the answer pages through the whole register (never its first few hundred). An
entry is confirmed when a person checks it with the organisation (an operator who called it, or
the partner itself): one nobody has confirmed for a while (`stale_after`, 180 days unless
configured) may no longer be true and is flagged, as is one never confirmed.
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.vocabulary import Topic
from directory.register.domain import Capability, OrgType

DEFAULT_STALE_AFTER = timedelta(days=180)
TEXT_MAX = 100


def normalise_text(text: str) -> str:
    """What a name search compares: NFKC (full/half width), lower case, trimmed."""
    return unicodedata.normalize("NFKC", text).lower().strip()


@dataclass(frozen=True)
class RegisterQuery:
    """What an operator looks for; every filter is optional and all of them apply.

    The service filters (area, capabilities, topic) must hold for one and the same service: an
    organisation is found for Shinjuku with 一時保護 only if one of its services offers shelter
    there.
    """

    text: str | None = None  # in the name or alternate name, or the whole id or 法人番号
    area: tuple[str, ...] | None = None  # coverage entries that reach the place (municipality …, JP)
    prefecture: str | None = None  # reaches somewhere in this prefecture (or all Japan)
    org_type: OrgType | None = None
    capabilities: frozenset[Capability] = frozenset()
    topic: Topic | None = None  # takes it (a service taking every topic does)
    active: bool | None = None
    stale: bool | None = None  # True: needs confirming again; False: confirmed recently

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "text", normalise_text(self.text)[:TEXT_MAX] or None)


def stale_cutoff(*, now: datetime, stale_after: timedelta) -> datetime:
    """Entries confirmed before this instant (or never) are stale."""
    return now - stale_after
