"""Database spans that cost less than the statements they describe: one span per transaction.

The generic asyncpg instrumentation made a span of every statement (and of BEGIN and COMMIT),
each costing about twice the statement itself. Here a transaction is one `db transaction` span
that says how many statements it ran, which was the slowest and how long that took; a statement
outside a transaction is a span of its own. A consumer's transactions make no span: inside
`figures_on(span)` the figures go on the record's `process` span (or, for a batch of several cases,
nowhere). The text is the statement's, never its parameters
(they may hold personal data). `telemetry.quiet()` silences it like any instrumentation.

The same wrapper knows when a transaction really commits, which asyncpg does not tell anyone: a
connection may carry an `after_commit` callback, and what was `staged()` in its outermost
transaction is handed to it once that transaction has committed (what a rolled-back savepoint
staged is dropped with it). The staging list belongs to the connection, so a row is published with
the transaction that wrote it and no other. The outbox publishes its rows this way the moment they
are durable.
"""

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import asyncpg
from asyncpg.transaction import Transaction
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import SpanKind, Status, StatusCode

from eventkit import telemetry

TRACER_NAME = "tsunagu.db"
STATEMENT_TEXT_LIMIT = 300


@dataclass
class _Unit:
    statements: int = 0
    slowest_s: float = 0.0
    slowest: str = ""


_unit: ContextVar[_Unit | None] = ContextVar("tsunagu_db_unit", default=None)
# Set by `figures_on`: transactions opened meanwhile make no span and put their figures here
# (INVALID_SPAN, which records nothing, for "nowhere").
_host: ContextVar[trace.Span | None] = ContextVar("tsunagu_db_host", default=None)


@contextlib.contextmanager
def figures_on(span: trace.Span | None) -> Iterator[None]:
    """Transactions opened inside put their figures (statement count, slowest statement) on
    `span` instead of a `db transaction` span of their own; with None, nowhere. The consumer's
    transactions are its `process` spans' work: a span each for them had cost a tenth of a case's
    spans, and a batch's, in no case's trace, had made a root trace of its own."""
    token = _host.set(span if span is not None else trace.INVALID_SPAN)
    try:
        yield
    finally:
        _host.reset(token)


AfterCommit = Callable[[list[Any]], None]


@dataclass
class CommitHooks:
    """A pool's callback for its connections' commits (eventkit.db.on_commit sets it)."""

    after_commit: AfterCommit | None = None


def staged(conn: asyncpg.Connection) -> list[Any] | None:
    """The list to stage into for after `conn`'s commit, or None when no `after_commit` will run
    (no transaction open on it, or a connection without one): the caller then takes its other path."""
    found: list[Any] | None = getattr(conn, "staged", None)  # a pool's proxy forwards to its connection
    return found


def after_statement(conn: asyncpg.Connection) -> AfterCommit | None:
    """The callback to hand what a statement wrote to once it has returned, when `conn` has one
    and no transaction is open on it: a statement alone commits as it returns. Else None."""
    hooks: CommitHooks | None = getattr(conn, "hooks", None)
    if hooks is None or hooks.after_commit is None or conn.is_in_transaction():
        return None
    return hooks.after_commit


def _short(query: str) -> str:
    return " ".join(query.split())[:STATEMENT_TEXT_LIMIT]


# asyncpg issues these itself for `conn.transaction()`: BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE.
_CONTROL = frozenset({"BEGI", "COMM", "ROLL", "SAVE", "RELE"})

# Each service has a database of its own: the service's name on the span says which.
_ATTRIBUTES = {"db.system.name": "postgresql"}


class TracedTransaction:
    """asyncpg's transaction, inside one span when it is the outermost one of its task."""

    def __init__(self, conn: "TracedConnection", inner: Transaction) -> None:
        self._conn = conn
        self._inner = inner
        self._span: trace.Span | None = None
        self._unit_token: Any = None
        self._hosted = False  # its figures go on a span of `figures_on`, not on one of its own
        self._opened = False  # this (outermost) transaction opened its connection's staging list
        self._mark = 0  # a savepoint: how much was staged before it

    async def __aenter__(self) -> "TracedTransaction":
        if _unit.get() is None and is_instrumentation_enabled():
            host = _host.get()
            self._hosted = host is not None
            self._span = host or telemetry.tracer(TRACER_NAME).start_span(
                "db transaction", kind=SpanKind.CLIENT, attributes=_ATTRIBUTES
            )
            self._unit_token = _unit.set(_Unit())
        outer = self._conn.staged
        if outer is not None:
            self._mark = len(outer)
        elif self._conn.after_commit is not None:
            self._conn.staged, self._opened = [], True
        try:
            await self._inner.__aenter__()
        except BaseException as error:
            # BEGIN failed (the connection dropped, the task was cancelled): no __aexit__ follows,
            # so this is the only place to close what was opened for the transaction.
            self._close(type(error), committed=False)
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        committed = False
        try:
            await self._inner.__aexit__(kind, error, traceback)
            committed = kind is None  # an error in the body rolled back; so did a failed COMMIT
        finally:
            self._close(kind, committed=committed)

    def _close(self, kind: type[BaseException] | None, *, committed: bool) -> None:
        try:
            self._after(committed=committed)
        finally:
            if self._unit_token is not None:
                unit = _unit.get() or _Unit()
                _unit.reset(self._unit_token)
                span = self._span
                if span is not None:
                    span.set_attribute("db.statement_count", unit.statements)
                    if unit.slowest:
                        span.set_attribute("db.slowest_statement", unit.slowest)
                        span.set_attribute("db.slowest_statement_ms", round(unit.slowest_s * 1000, 3))
                if span is not None and not self._hosted:
                    if kind is not None:
                        # The type only: a database error's message can quote the values.
                        span.set_attribute("error.type", kind.__qualname__)
                        span.set_status(Status(StatusCode.ERROR, kind.__qualname__))
                    span.end()

    def _after(self, *, committed: bool) -> None:
        items = self._conn.staged
        if not self._opened:  # a savepoint, or nothing staged for this connection
            if items is not None and not committed:
                del items[self._mark :]
            return
        self._conn.staged = None
        if committed and items and self._conn.after_commit is not None:
            self._conn.after_commit(items)

    # asyncpg's explicit style (tr = conn.transaction(); await tr.start() ...) is not traced, and
    # stages nothing of its own; as a savepoint inside a staging transaction, what it staged goes
    # with its rollback.
    async def start(self) -> None:
        outer = self._conn.staged
        if outer is not None:
            self._mark = len(outer)
        await self._inner.start()

    async def commit(self) -> None:
        await self._inner.commit()

    async def rollback(self) -> None:
        await self._inner.rollback()
        items = self._conn.staged
        if items is not None:
            del items[self._mark :]


class TracedConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg ships no types
    """The pool's connection class: statements are counted into their transaction's span.
    The methods pass asyncpg's arguments (`timeout`, `column`, `record_class` …) on untouched."""

    # The pool's (eventkit.db.create_pool sets them); a connection of its own has none.
    hooks: CommitHooks | None = None
    # What its open outermost transaction staged for `after_commit` (dbtrace.staged); else None.
    staged: list[Any] | None = None

    @property
    def after_commit(self) -> AfterCommit | None:
        return self.hooks.after_commit if self.hooks is not None else None

    def transaction(self, **options: Any) -> TracedTransaction:
        return TracedTransaction(self, super().transaction(**options))

    async def _traced(self, query: str, call: Any) -> Any:
        if query[:4].upper() in _CONTROL:
            return await call  # BEGIN, COMMIT …: the transaction's span is their record
        unit = _unit.get()
        if unit is None:
            if not is_instrumentation_enabled():
                return await call
            with telemetry.tracer(TRACER_NAME).start_as_current_span(
                "db statement",
                kind=SpanKind.CLIENT,
                attributes={**_ATTRIBUTES, "db.query.text": _short(query)},
                record_exception=False,
                set_status_on_exception=False,
            ):
                return await call
        started = time.perf_counter()
        try:
            return await call
        finally:
            elapsed = time.perf_counter() - started
            unit.statements += 1
            if elapsed >= unit.slowest_s:
                unit.slowest_s, unit.slowest = elapsed, _short(query)

    async def execute(self, query: str, *args: Any, **options: Any) -> str:
        result: str = await self._traced(query, super().execute(query, *args, **options))
        return result

    async def executemany(self, command: str, args: Any, **options: Any) -> None:
        await self._traced(command, super().executemany(command, args, **options))

    async def fetch(self, query: str, *args: Any, **options: Any) -> Any:
        return await self._traced(query, super().fetch(query, *args, **options))

    async def fetchval(self, query: str, *args: Any, **options: Any) -> Any:
        return await self._traced(query, super().fetchval(query, *args, **options))

    async def fetchrow(self, query: str, *args: Any, **options: Any) -> Any:
        return await self._traced(query, super().fetchrow(query, *args, **options))
