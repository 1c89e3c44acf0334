"""Rate limits of the public edges (anonymous chats, channel webhooks): a token bucket per key —
a client address, a chat — answered with 429, the error shape and `Retry-After`.

The buckets live in the process (each replica counts its own share): they stop one client flooding
an instance, not a distributed attack, which belongs to the ingress in front. A bucket holds
`burst` tries and refills at `per_s` a second; the least recently used keys are dropped past
`max_keys`, so a flood of new keys cannot grow memory without bound.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request

from eventkit.errors import ApiError

Key = Callable[[Request], str]


@dataclass(frozen=True)
class Limit:
    burst: int
    per_s: float


class RateLimiter:
    def __init__(
        self, limit: Limit, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key: (tokens, at)

    def take(self, key: str) -> float:
        """Take one try for `key`: 0 when allowed, else the seconds until one is."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (float(self._limit.burst), now))
        tokens = min(float(self._limit.burst), tokens + (now - at) * self._limit.per_s)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self._limit.per_s
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait


def client_address(request: Request) -> str:
    """The peer's address (behind a proxy, uvicorn's --proxy-headers makes it the client's)."""
    return request.client.host if request.client else "unknown"


def rate_limited(name: str, limit: Limit, key: Key = client_address) -> Any:
    """A route dependency: 429 with `Retry-After` once `key`'s bucket under `name` is empty. Each
    app has its own buckets (in `app.state`), made on first use; `app.state.rate_limits` may hold
    another `Limit` by name (the composition root's settings, a test's)."""

    async def check(request: Request) -> None:
        state = request.app.state
        if getattr(state, "rate_limits_lifted", False):
            return
        if not hasattr(state, "rate_limiters"):
            state.rate_limiters = {}
        limiters: dict[str, RateLimiter] = state.rate_limiters
        limiter = limiters.get(name)
        if limiter is None:
            overrides: dict[str, Limit] = getattr(state, "rate_limits", {})
            limiter = limiters[name] = RateLimiter(overrides.get(name, limit))
        wait = limiter.take(f"{name}:{key(request)}")
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429,
                "rate_limited",
                f"Too many requests: try again in {retry_after} seconds.",
                headers={"Retry-After": str(retry_after)},
            )

    checker: Callable[[Request], Awaitable[None]] = check
    return Depends(checker)


def lift_limits(app: FastAPI) -> None:
    """For tests that probe an app with many requests on purpose (the bad-input probes)."""
    app.state.rate_limits_lifted = True
