"""Prometheus metrics, the same in every service: HTTP and consumer latency, dead letters, the
outbox's backlog and age, consumer lag, and each service's own counts by state.

They are served on an internal port (`<PREFIX>_METRICS_PORT`), never on the public HTTP port:
the Ingress does not route it and, on Kubernetes, only the monitoring namespace may reach it. No
label carries personal data or an id: routes are templates (`/v1/referrals/{referral_id}`),
topics and states are the contracts' own words.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from threading import Thread
from typing import Any, Final, TypeVar
from wsgiref.simple_server import WSGIServer

import asyncpg
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# One registry for the process (a process is one service), apart from prometheus_client's
# default one, which would add the library's own process and platform collectors.
REGISTRY: Final = CollectorRegistry()


_Metric = TypeVar("_Metric", Histogram, Counter, Gauge)


def _per_service(kind: type[_Metric], name: str, help: str, *labels: str) -> _Metric:
    """A metric of the process's registry, labelled by service first."""
    return kind(name, help, ["service", *labels], registry=REGISTRY)


HTTP_DURATION: Final = _per_service(
    Histogram,
    "tsunagu_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status",
    "method",
    "route",
    "status",
)
CONSUMER_DURATION: Final = _per_service(
    Histogram,
    "tsunagu_consumer_record_duration_seconds",
    "Time to apply a consumed record (a batch's time shared by its records)",
    "topic",
)
DEAD_LETTERS: Final = _per_service(
    Counter, "tsunagu_dead_letters", "Records sent to a dead-letter topic, by that topic", "topic"
)
OUTBOX_BACKLOG: Final = _per_service(Gauge, "tsunagu_outbox_backlog", "Outbox rows not yet published")
OUTBOX_OLDEST_AGE: Final = _per_service(
    Gauge, "tsunagu_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when none waits)"
)
CONSUMER_LAG: Final = _per_service(
    Gauge,
    "tsunagu_consumer_lag",
    "Records on the broker that the service's consumer group has not yet fetched, by topic",
    "topic",
)
SAMPLED_AT: Final = _per_service(
    Gauge, "tsunagu_metrics_sampled_timestamp_seconds", "When the sampled gauges were last refreshed"
)

_SKIP_PATHS: Final = ("/static/",)


class HttpMetrics:
    """ASGI middleware: one observation per HTTP request, labelled by the matched route's template
    (unmatched paths share one label, so a scanner cannot grow the series without bound)."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_SKIP_PATHS):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            HTTP_DURATION.labels(self.service, scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )


@contextlib.contextmanager
def consuming(service: str, topic: str, records: int) -> Iterator[None]:
    """Times the application of `records` records of `topic`."""
    started = time.perf_counter()
    try:
        yield
    finally:
        share = (time.perf_counter() - started) / max(records, 1)
        observe = CONSUMER_DURATION.labels(service, topic).observe
        for _ in range(records):
            observe(share)


def dead_lettered(service: str, topic: str) -> None:
    DEAD_LETTERS.labels(service, topic).inc()


def expect_dead_letters(service: str, topics: Iterable[str]) -> None:
    """Start each counter at 0: a series that first appears at 1 has no increase to alert on."""
    for topic in topics:
        DEAD_LETTERS.labels(service, topic)


@dataclass(frozen=True)
class StateCount:
    """A service's own gauge of rows by state, e.g. `tsunagu_handoffs{state="acknowledged"}`:
    `query` returns (state, count) pairs from the service's repository."""

    name: str
    help: str
    label: str
    query: Callable[[asyncpg.Pool], Awaitable[Iterable[tuple[str, float]]]]


_STATE_GAUGES: dict[str, Gauge] = {}


def _state_gauge(count: StateCount) -> Gauge:
    # Declared once per process, however many runtimes (tests start several) share it.
    gauge = _STATE_GAUGES.get(count.name)
    if gauge is None:
        gauge = _per_service(Gauge, count.name, count.help, count.label)
        _STATE_GAUGES[count.name] = gauge
    return gauge


async def outbox_backlog(pool: asyncpg.Pool) -> tuple[int, float]:
    row = await pool.fetchrow(
        """SELECT count(*) AS backlog,
                  coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
           FROM outbox WHERE published_at IS NULL"""
    )
    return (int(row["backlog"]), float(row["oldest"])) if row else (0, 0.0)


async def consumer_lag(consumer: Any) -> dict[str, int]:
    """The records of each topic past the group's fetch position, over its assigned partitions."""
    lag: dict[str, int] = {}
    for partition in consumer.assignment():
        highwater = consumer.highwater(partition)
        if highwater is None:
            continue  # nothing fetched from it yet
        position = await consumer.position(partition)
        lag[partition.topic] = lag.get(partition.topic, 0) + max(highwater - position, 0)
    return lag


class Sampler:
    """Refreshes the gauges that are read from the database and the consumer, every `interval_s`
    (the state counts every `counts_interval_s`).

    Every replica samples: the database's counts are then the same on each (aggregate them with
    `max`), while each reports the lag of the partitions assigned to it (aggregate with `sum`)."""

    def __init__(
        self,
        service: str,
        pool: asyncpg.Pool,
        *,
        counts: Iterable[StateCount] = (),
        consumer: Callable[[], Any] = lambda: None,
        has_outbox: bool = True,
        interval_s: float = 10.0,
        counts_interval_s: float = 60.0,
    ) -> None:
        self.service = service
        self._pool = pool
        self._counts = tuple(counts)
        self._consumer = consumer
        self._has_outbox = has_outbox
        self._interval_s = interval_s
        # The state counts read whole tables (or an hour of rows) and grow with the history: after
        # an hour at 50 cases/s referral's took 40–100 ms a query. Read every minute, not every
        # round; the backlog and the lag are cheap and stay fresh.
        self._counts_interval_s = counts_interval_s
        self._counted_at: float | None = None
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def closed(self) -> None:
        """Nothing to release: it holds only the runtime's pool and consumer."""

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.sample()
            except (OSError, asyncpg.PostgresError, KafkaError) as error:
                # A database away, or partitions taken by a rebalance meanwhile: the next round.
                log.warning("metrics of %s not refreshed (%s)", self.service, type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval_s)

    async def sample(self) -> None:
        if self._has_outbox:
            backlog, oldest = await outbox_backlog(self._pool)
            OUTBOX_BACKLOG.labels(self.service).set(backlog)
            OUTBOX_OLDEST_AGE.labels(self.service).set(oldest)
        consumer = self._consumer()
        if consumer is not None:
            for topic, lag in (await consumer_lag(consumer)).items():
                CONSUMER_LAG.labels(self.service, topic).set(lag)
        now = time.monotonic()
        if self._counted_at is None or now - self._counted_at >= self._counts_interval_s:
            self._counted_at = now
            for count in self._counts:
                gauge = _state_gauge(count)
                for state, value in await count.query(self._pool):
                    gauge.labels(self.service, state).set(value)
        SAMPLED_AT.labels(self.service).set(time.time())


class MetricsServer:
    """The internal /metrics endpoint: prometheus_client's own HTTP server, on a thread."""

    def __init__(self, host: str, port: int) -> None:
        self._server: WSGIServer | None = None
        self._thread: Thread | None = None
        self.host, self.port = host, port

    def start(self) -> None:
        self._server, self._thread = start_http_server(self.port, addr=self.host, registry=REGISTRY)
        log.info("metrics on %s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
