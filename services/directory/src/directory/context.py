"""What directory's use cases need besides a connection: geography, matching policy, clock, listing cache
and how long a confirmed entry stays fresh.

Built once by main.py from the settings (tests build their own, with a fixed clock).
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from directory.curation.domain import DEFAULT_STALE_AFTER
from directory.geography import repository as geography_data
from directory.geography.domain import Geography
from directory.matching.domain import MatchPolicy
from directory.matching.repository import ListingCache
from eventkit.clock import Clock, system_clock


@dataclass(frozen=True)
class Context:
    # A source, not the data: the shipped geography is read on first use (then cached), so that
    # building the handler table at import reads no files.
    geography_source: Callable[[], Geography] = geography_data.load
    policy: MatchPolicy = dataclasses.field(default_factory=MatchPolicy)
    clock: Clock = system_clock
    listings: ListingCache = dataclasses.field(default_factory=ListingCache)
    # An entry nobody has confirmed with its organisation for this long is flagged as stale.
    verification_stale_after: timedelta = DEFAULT_STALE_AFTER

    @property
    def geography(self) -> Geography:
        return self.geography_source()
