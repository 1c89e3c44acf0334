"""referral's use cases on the lifecycle. Each is one transaction: the referral, its attempts, timeline
rows, the deadline timer it arms and the events it announces (outbox) commit together or not at all.

The lifecycle's refusals are eventkit domain errors and leave as they are raised; eventkit.http
answers them over HTTP, and a fact that can never apply becomes `FactRejected` (a dead letter).
"""

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Protocol

import asyncpg
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind

from contracts.vocabulary import DeclineReason, OutcomeCode, OutcomeStage
from eventkit import outbox, telemetry
from eventkit.auth import Principal, Role
from eventkit.clock import Clock, system_clock
from eventkit.crypto import Keyring
from eventkit.errors import Forbidden, not_found
from referral.lifecycle import delivery_track, facts, notes, outcome_track, repository
from referral.lifecycle.domain import ACTOR, Attempt, Change, Entry, HandoffPolicy, Referral, Timer
from referral.lifecycle.errors import IllegalTransition
from referral.lifecycle.facts import CaseRecorded, Fact
from referral.lifecycle.states import OPEN_ATTEMPT, AccompaniedTo, AttemptState, Milestone, WithdrawReason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lifecycle:
    """What the lifecycle runs with: the handoff policy, the clock that tests move, and the keyring
    that seals the notes people write (storing a note without one is refused)."""

    policy: HandoffPolicy
    clock: Clock = system_clock
    notes: Keyring | None = None

    def seal(self, note: str, *, context: str) -> str:
        if self.notes is None:
            raise RuntimeError("a note cannot be stored without a keyring (REFERRAL_ENCRYPTION_KEYS)")
        return self.notes.encrypt(note, context=context)


class FactRejected(Exception):
    """A fact that can never apply; `reason` is a machine code for the dead-letter record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def store(
    conn: asyncpg.Connection,
    before: Referral,
    change: Change,
    *,
    acted_by: str | None = None,
    first_detail: dict[str, object] | None = None,
) -> None:
    """Write a Change in one statement: the referral, changed attempts, timers, timeline and the
    events announcing it (outbox)."""
    if change.repeated:
        return
    after = change.referral
    attempts = [
        repository.AttemptWrite(
            attempt,
            acted_by=acted_by if _ended_by_person(attempt) else None,
            # An attempt that ended otherwise than by its deadline no longer needs the timer:
            # left, it would fire later only to find nothing to do (a transaction per case).
            # An expiry keeps its timer, which the firing transaction marks fired.
            cancel_timer=attempt.state not in OPEN_ATTEMPT and attempt.state is not AttemptState.EXPIRED,
        )
        for attempt in after.attempts
        if before.attempt_no(attempt.number) != attempt
    ]
    entries = list(change.entries)
    if entries and first_detail:
        entries[0] = replace(entries[0], detail={**first_detail, **entries[0].detail})
    await repository.save_change(
        conn,
        referral=after,
        referral_changed=after != before,
        attempts=attempts,
        entries=entries,
        trace_id=telemetry.current_trace_id(),
        # The timer keeps the case's trace, so the expiry it fires joins the same trace.
        deadline=change.deadline,
        trace_headers=telemetry.current_trace_headers(),
        events=outbox.rows_of(conn, change.events),
    )


def _ended_by_person(attempt: Attempt) -> bool:
    return attempt.ended_at is not None and attempt.state in (
        AttemptState.ACKNOWLEDGED,
        AttemptState.DECLINED,
    )


# ---- facts from other services (in the consumer's transaction) ---------------------------------


async def open_referral(
    conn: asyncpg.Connection, *, case: CaseRecorded, event_id: uuid.UUID, lifecycle: Lifecycle
) -> Referral | None:
    """Open a referral for a case that may be handed off and ask for a match; None if none opens."""
    if not facts.should_open_referral(case):
        return None
    referral = facts.open_referral(case, referral_id=uuid.uuid4(), now=lifecycle.clock())
    trace_id = telemetry.current_trace_id()
    inserted = await repository.insert_referral(
        conn,
        referral=referral,
        entries=[Entry(Milestone.REQUESTED, referral.created_at, ACTOR, detail={"event_id": str(event_id)})],
        events=outbox.rows_of(conn, [referral.requested_event()]),
        trace_id=trace_id,
        trace_headers=telemetry.current_trace_headers(),
    )
    if not inserted:
        # The case was recorded again (another event id): its referral already exists.
        return None
    telemetry.tag(referral_id=referral.id)
    log.info("opened referral %s for case %s", referral.id, case.case_id)
    return referral


async def record_fact(
    conn: asyncpg.Connection,
    *,
    referral_id: uuid.UUID,
    case_id: uuid.UUID,
    fact: Fact,
    actor: str,
    event_id: uuid.UUID,
    lifecycle: Lifecycle,
) -> Referral:
    """Apply another service's fact to its referral (in the caller's transaction)."""
    referral = await repository.lock_referral(conn, referral_id=referral_id)
    if referral is None:
        raise FactRejected("unknown_referral")
    if referral.case_id != case_id:
        # Messages are keyed by case id; a fact under another case would break per-case order.
        raise FactRejected("case_mismatch")
    try:
        change = facts.apply(referral, fact, actor=actor, policy=lifecycle.policy, now=lifecycle.clock())
    except IllegalTransition as error:
        raise FactRejected(error.reason) from error
    await store(conn, referral, change, first_detail={"event_id": str(event_id)})
    return change.referral


# ---- deadlines (the scheduler's transaction) ---------------------------------------------------


async def fire_deadline(
    conn: asyncpg.Connection, *, timer: Timer, lifecycle: Lifecycle, now: datetime
) -> Referral | None:
    """Expire the timer's attempt if it is still open, and move on; mark the timer fired either way."""
    referral = await repository.lock_referral(conn, referral_id=timer.referral_id)
    after: Referral | None = None
    if referral is not None:
        telemetry.tag(case_id=referral.case_id, referral_id=referral.id)
        change = delivery_track.expire(referral, attempt=timer.attempt, at=now, policy=lifecycle.policy)
        if change is not None:
            await store(conn, referral, change)
            after = change.referral
            log.info(
                "referral %s attempt %d expired; now %s (attempt %d)",
                referral.id,
                timer.attempt,
                after.state.value,
                after.attempt,
            )
    await repository.mark_timer_fired(conn, timer_id=timer.id, now=now)
    return after


# ---- partners, counsellors and operators over HTTP ---------------------------------------------


@contextlib.asynccontextmanager
async def _in_case_trace(pool: asyncpg.Pool, referral_id: uuid.UUID, name: str) -> AsyncIterator[None]:
    """A span in the case's trace (linked to the HTTP request's), so that a partner's click days
    later shows in the same trace as the consultation it answers."""
    async with pool.acquire() as conn:
        headers = await repository.trace_headers_of(conn, referral_id=referral_id)
    request = trace.get_current_span().get_span_context()
    with telemetry.tracer().start_as_current_span(
        name,
        context=propagate.extract(headers),
        kind=SpanKind.INTERNAL,
        links=[Link(request)] if request.is_valid else [],
        attributes={telemetry.REFERRAL_ID: str(referral_id)},
    ):
        yield


@contextlib.asynccontextmanager
async def locked_referral(
    pool: asyncpg.Pool, referral_id: uuid.UUID, span: str, organisation_id: uuid.UUID | None = None
) -> AsyncIterator[tuple[asyncpg.Connection, Referral]]:
    """One use case on one referral: inside the case's trace, one transaction, its row locked."""
    async with (
        _in_case_trace(pool, referral_id, span),
        pool.acquire() as conn,
        conn.transaction(),
    ):
        referral = await repository.lock_referral(conn, referral_id=referral_id)
        if referral is None:
            raise not_found("referral")
        telemetry.tag(case_id=referral.case_id, referral_id=referral.id, organisation_id=organisation_id)
        yield conn, referral


@dataclass(frozen=True)
class AttemptView:
    """What a partner's answer to an attempt did."""

    referral_id: uuid.UUID
    attempt: int
    organisation_id: uuid.UUID
    state: AttemptState
    at: datetime | None  # when it was acknowledged or declined
    repeated: bool = False


def attempt_view(referral: Referral, number: int, *, repeated: bool) -> AttemptView:
    """Attempt `number` as the answer left it; the partner answered it, so the referral has it."""
    attempt = referral.attempt_no(number)
    assert attempt is not None
    return AttemptView(
        referral.id, attempt.number, attempt.organisation_id, attempt.state, attempt.ended_at, repeated
    )


def _partner_org(principal: Principal) -> uuid.UUID:
    if principal.role is not Role.PARTNER or principal.organisation_id is None:
        raise Forbidden("Only the partner organisation offered the handoff may answer it.")
    return principal.organisation_id


class Step(Protocol):
    """A track's step as a person takes it on the locked referral: `actor` is who, `at` is now."""

    def __call__(self, referral: Referral, /, *, actor: str, at: datetime) -> Change: ...


async def take_step(
    pool: asyncpg.Pool,
    principal: Principal,
    lifecycle: Lifecycle,
    referral_id: uuid.UUID,
    span: str,
    step: Step,
    *,
    organisation_id: uuid.UUID | None = None,
    then: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> Change:
    """A person's use case on one referral: lock it, take the step by them now, store the change
    (with who ended an attempt they answered); `then`, unless the step was a repeat, commits with it."""
    async with locked_referral(pool, referral_id, span, organisation_id) as (conn, referral):
        change = step(referral, actor=principal.subject, at=lifecycle.clock())
        await store(conn, referral, change, acted_by=principal.subject)
        if then is not None and not change.repeated:
            await then(conn)
    return change


async def acknowledge(
    pool: asyncpg.Pool, *, principal: Principal, referral_id: uuid.UUID, attempt: int, lifecycle: Lifecycle
) -> AttemptView:
    organisation_id = _partner_org(principal)
    step = partial(delivery_track.acknowledge, attempt=attempt, organisation_id=organisation_id, via="api")
    change = await take_step(
        pool, principal, lifecycle, referral_id, "acknowledge handoff", step, organisation_id=organisation_id
    )
    if not change.repeated:
        log.info(
            "referral %s attempt %d acknowledged by organisation %s", referral_id, attempt, organisation_id
        )
    return attempt_view(change.referral, attempt, repeated=change.repeated)


async def decline(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    referral_id: uuid.UUID,
    attempt: int,
    reason: DeclineReason,
    note: str | None,
    lifecycle: Lifecycle,
) -> AttemptView:
    organisation_id = _partner_org(principal)

    async def keep_note(conn: asyncpg.Connection) -> None:
        if note:
            # The partner's words stay in this table: never in an event, a log or the timeline.
            sealed = lifecycle.seal(note, context=notes.decline_context(referral_id, attempt))
            await repository.set_decline_note(conn, referral_id=referral_id, attempt=attempt, note_enc=sealed)

    step = partial(
        delivery_track.decline,
        attempt=attempt,
        organisation_id=organisation_id,
        reason=reason,
        policy=lifecycle.policy,
    )
    change = await take_step(
        pool,
        principal,
        lifecycle,
        referral_id,
        "decline handoff",
        step,
        organisation_id=organisation_id,
        then=keep_note,
    )
    if not change.repeated:
        log.info(
            "referral %s attempt %d declined (%s); now %s",
            referral_id,
            attempt,
            reason.value,
            change.referral.state.value,
        )
    return attempt_view(change.referral, attempt, repeated=change.repeated)


async def record_outcome(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    referral_id: uuid.UUID,
    stage: OutcomeStage,
    outcome: OutcomeCode | None,
    accompanied_to: AccompaniedTo | None,
    lifecycle: Lifecycle,
) -> Referral:
    organisation_id = _partner_org(principal)
    step = partial(
        outcome_track.record_outcome,
        organisation_id=organisation_id,
        stage=stage,
        outcome=outcome,
        accompanied_to=accompanied_to,
    )
    change = await take_step(
        pool,
        principal,
        lifecycle,
        referral_id,
        "record handoff outcome",
        step,
        organisation_id=organisation_id,
    )
    log.info("referral %s outcome %s recorded", referral_id, stage.value)
    return change.referral


async def withdraw(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    referral_id: uuid.UUID,
    reason: WithdrawReason,
    lifecycle: Lifecycle,
) -> Referral:
    step = partial(outcome_track.withdraw, reason=reason)
    change = await take_step(pool, principal, lifecycle, referral_id, "withdraw referral", step)
    log.info("referral %s withdrawn (%s)", referral_id, reason.value)
    return change.referral
