"""referral's use cases. Each is one transaction: the referral, its attempts, timeline rows, the
deadline timer it arms and the events it announces (outbox) commit together or not at all."""

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind

from contracts.events import ConsultationRecorded
from contracts.vocabulary import DeclineReason, OutcomeCode, OutcomeStage
from eventkit import outbox, telemetry
from eventkit.auth import Principal, Role
from eventkit.errors import ApiError, ErrorDetail, not_found
from eventkit.links import LinkClaims
from referral import domain, repository
from referral.domain import (
    ACTOR,
    AccompaniedTo,
    Attempt,
    Change,
    Fact,
    HandoffPolicy,
    Referral,
    ReferralState,
    TimelineEntry,
    WithdrawReason,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Lifecycle:
    """What the lifecycle runs with: the handoff policy, and the clock that tests move."""

    policy: HandoffPolicy
    clock: Clock = utc_now


class FactRejected(Exception):
    """A fact that can never apply; `reason` is a machine code for the dead-letter record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _api_error(error: domain.LifecycleError) -> ApiError:
    return ApiError(error.status, error.code, error.message)


async def _store(
    conn: asyncpg.Connection,
    before: Referral,
    change: Change,
    *,
    acted_by: str | None = None,
    first_detail: dict[str, object] | None = None,
) -> None:
    """Write a Change: referral row, changed attempts, timeline, timer, then the outbox rows."""
    if change.repeated:
        return
    after = change.referral
    if after != before:
        await repository.update_referral(conn, referral=after)
    for attempt in after.attempts:
        if before.attempt_no(attempt.number) != attempt:
            ended_by_person = attempt.ended_at is not None and attempt.state in (
                domain.AttemptState.ACKNOWLEDGED,
                domain.AttemptState.DECLINED,
            )
            await repository.save_attempt(
                conn, referral_id=after.id, attempt=attempt, acted_by=acted_by if ended_by_person else None
            )
    trace_id = telemetry.current_trace_id()
    for index, entry in enumerate(change.entries):
        if index == 0 and first_detail:
            entry = domain.Entry(
                entry.milestone,
                entry.at,
                entry.actor,
                entry.attempt,
                entry.organisation_id,
                {**first_detail, **entry.detail},
            )
        await repository.add_timeline_entry(conn, referral_id=after.id, entry=entry, trace_id=trace_id)
    if change.deadline is not None:
        # The timer keeps the case's trace, so the expiry it fires joins the same trace.
        await repository.insert_timer(
            conn,
            referral_id=after.id,
            deadline=change.deadline,
            trace_headers=telemetry.current_trace_headers(),
        )
    for event in change.events:
        await outbox.append(conn, event)


# ---- facts from other services (in the consumer's transaction) ---------------------------------


async def open_referral(
    conn: asyncpg.Connection, *, event: ConsultationRecorded, event_id: uuid.UUID, lifecycle: Lifecycle
) -> Referral | None:
    """Open a referral for a case that may be handed off and ask for a match; None if none opens."""
    if not domain.should_open_referral(event):
        return None
    referral = domain.open_referral(event, referral_id=uuid.uuid4(), now=lifecycle.clock())
    trace_id = telemetry.current_trace_id()
    inserted = await repository.insert_referral(
        conn, referral=referral, trace_id=trace_id, trace_headers=telemetry.current_trace_headers()
    )
    if not inserted:
        # The case was recorded again (another event id): its referral already exists.
        return None
    await repository.add_timeline_entry(
        conn,
        referral_id=referral.id,
        entry=domain.Entry(
            domain.Milestone.REQUESTED, referral.created_at, ACTOR, detail={"event_id": str(event_id)}
        ),
        trace_id=trace_id,
    )
    await outbox.append(conn, referral.requested_event())
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
        change = domain.apply(referral, fact, actor=actor, policy=lifecycle.policy, now=lifecycle.clock())
    except domain.IllegalTransition as error:
        raise FactRejected(error.reason) from error
    await _store(conn, referral, change, first_detail={"event_id": str(event_id)})
    return change.referral


# ---- deadlines (the scheduler's transaction) ---------------------------------------------------


async def fire_deadline(
    conn: asyncpg.Connection, *, timer: repository.Timer, lifecycle: Lifecycle, now: datetime
) -> Referral | None:
    """Expire the timer's attempt if it is still open, and move on; mark the timer fired either way."""
    referral = await repository.lock_referral(conn, referral_id=timer.referral_id)
    after: Referral | None = None
    if referral is not None:
        telemetry.tag(case_id=referral.case_id, referral_id=referral.id)
        change = domain.expire(referral, attempt=timer.attempt, at=now, policy=lifecycle.policy)
        if change is not None:
            await _store(conn, referral, change)
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
async def _locked_referral(
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


def _step(apply: Callable[[], T]) -> T:
    """Run a domain transition; an illegal one becomes the HTTP error that explains it."""
    try:
        return apply()
    except domain.LifecycleError as error:
        raise _api_error(error) from None


@dataclass(frozen=True)
class AttemptView:
    referral_id: uuid.UUID
    attempt: int
    organisation_id: uuid.UUID
    state: domain.AttemptState
    at: datetime | None  # when it was acknowledged or declined
    repeated: bool = False


def _view(referral: Referral, attempt: Attempt, *, repeated: bool) -> AttemptView:
    return AttemptView(
        referral.id, attempt.number, attempt.organisation_id, attempt.state, attempt.ended_at, repeated
    )


def _partner_org(principal: Principal) -> uuid.UUID:
    if principal.role is not Role.PARTNER or principal.organisation_id is None:
        raise ApiError(403, "forbidden", "Only the partner organisation offered the handoff may answer it.")
    return principal.organisation_id


async def acknowledge(
    pool: asyncpg.Pool, *, principal: Principal, referral_id: uuid.UUID, attempt: int, lifecycle: Lifecycle
) -> AttemptView:
    organisation_id = _partner_org(principal)
    async with _locked_referral(pool, referral_id, "acknowledge handoff", organisation_id) as (
        conn,
        referral,
    ):
        change = _step(
            lambda: domain.acknowledge(
                referral,
                attempt=attempt,
                organisation_id=organisation_id,
                via="api",
                actor=principal.subject,
                at=lifecycle.clock(),
            )
        )
        await _store(conn, referral, change, acted_by=principal.subject)
    done = change.referral.attempt_no(attempt)
    assert done is not None
    if not change.repeated:
        log.info(
            "referral %s attempt %d acknowledged by organisation %s", referral_id, attempt, organisation_id
        )
    return _view(change.referral, done, repeated=change.repeated)


async def acknowledge_by_link(pool: asyncpg.Pool, *, claims: LinkClaims, lifecycle: Lifecycle) -> AttemptView:
    """The signed link acts once: its token id is recorded with the result; using it again only
    shows that result (acknowledged, or why not) and changes nothing."""
    failure: domain.LifecycleError | None = None
    view: AttemptView | None = None
    actor = f"link:{claims.organisation_id}"
    async with _locked_referral(
        pool, claims.referral_id, "acknowledge handoff by link", claims.organisation_id
    ) as (conn, referral):
        now = lifecycle.clock()
        if await repository.used_link_result(conn, token_id=claims.token_id) is not None:
            done = _step(
                lambda: domain.acknowledgement_of(
                    referral, attempt=claims.attempt, organisation_id=claims.organisation_id
                )
            )
            return _view(referral, done, repeated=True)
        try:
            change = domain.acknowledge(
                referral,
                attempt=claims.attempt,
                organisation_id=claims.organisation_id,
                via="link",
                actor=actor,
                at=now,
            )
        except domain.LifecycleError as error:
            failure = error
        else:
            await _store(conn, referral, change, acted_by=actor)
            acknowledged = change.referral.attempt_no(claims.attempt)
            assert acknowledged is not None
            view = _view(change.referral, acknowledged, repeated=change.repeated)
        await repository.record_used_link(
            conn,
            token_id=claims.token_id,
            referral_id=claims.referral_id,
            attempt=claims.attempt,
            organisation_id=claims.organisation_id,
            used_at=now,
            result=failure.code if failure else "acknowledged",
        )
    # Raised after the commit: the link is spent even when it could no longer acknowledge.
    if failure is not None:
        raise _api_error(failure)
    assert view is not None
    return view


@dataclass(frozen=True)
class LinkPage:
    """What the confirmation page shows: codes only."""

    referral: Referral
    attempt: Attempt
    used: bool


async def describe_link(pool: asyncpg.Pool, *, claims: LinkClaims) -> LinkPage:
    """Read-only, for GET: mail scanners fetch links, and fetching must not acknowledge."""
    async with pool.acquire() as conn:
        referral = await repository.get_referral(conn, referral_id=claims.referral_id)
        used = await repository.used_link_result(conn, token_id=claims.token_id) is not None
    attempt = referral.attempt_no(claims.attempt) if referral else None
    if referral is None or attempt is None or attempt.organisation_id != claims.organisation_id:
        raise not_found("referral")
    return LinkPage(referral, attempt, used)


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
    async with _locked_referral(pool, referral_id, "decline handoff", organisation_id) as (conn, referral):
        change = _step(
            lambda: domain.decline(
                referral,
                attempt=attempt,
                organisation_id=organisation_id,
                reason=reason,
                actor=principal.subject,
                at=lifecycle.clock(),
                policy=lifecycle.policy,
            )
        )
        await _store(conn, referral, change, acted_by=principal.subject)
        if note and not change.repeated:
            # The partner's words stay in this table: never in an event, a log or the timeline.
            await repository.set_decline_note(conn, referral_id=referral_id, attempt=attempt, note=note)
    done = change.referral.attempt_no(attempt)
    assert done is not None
    if not change.repeated:
        log.info(
            "referral %s attempt %d declined (%s); now %s",
            referral_id,
            attempt,
            reason.value,
            change.referral.state.value,
        )
    return _view(change.referral, done, repeated=change.repeated)


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
    async with _locked_referral(pool, referral_id, "record handoff outcome", organisation_id) as (
        conn,
        referral,
    ):
        change = _step(
            lambda: domain.record_outcome(
                referral,
                organisation_id=organisation_id,
                stage=stage,
                outcome=outcome,
                accompanied_to=accompanied_to,
                actor=principal.subject,
                at=lifecycle.clock(),
            )
        )
        await _store(conn, referral, change)
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
    async with _locked_referral(pool, referral_id, "withdraw referral") as (conn, referral):
        change = _step(
            lambda: domain.withdraw(referral, reason=reason, actor=principal.subject, at=lifecycle.clock())
        )
        await _store(conn, referral, change)
    log.info("referral %s withdrawn (%s)", referral_id, reason.value)
    return change.referral


# ---- reads -------------------------------------------------------------------------------------


def _may_read(principal: Principal, referral: Referral) -> bool:
    if principal.role in (Role.COUNSELLOR, Role.OPERATOR):
        return True
    return referral.organisation_id is not None and principal.is_partner_of(referral.organisation_id)


async def get_referral(
    pool: asyncpg.Pool, *, principal: Principal, referral_id: uuid.UUID
) -> tuple[Referral, list[TimelineEntry]]:
    async with pool.acquire() as conn:
        referral = await repository.get_referral(conn, referral_id=referral_id)
        # Another partner's referral is a 404 like a missing one, so that ids cannot be probed.
        if referral is None or not _may_read(principal, referral):
            raise not_found("referral")
        own = principal.organisation_id if principal.role is Role.PARTNER else None
        entries = await repository.timeline(conn, referral_id=referral_id, organisation_id=own)
    telemetry.tag(case_id=referral.case_id, referral_id=referral.id, organisation_id=referral.organisation_id)
    return referral, entries


async def timeline(
    pool: asyncpg.Pool, *, principal: Principal, referral_id: uuid.UUID
) -> tuple[Referral, list[TimelineEntry]]:
    """Counsellors and operators: everything. A partner: the entries of its own attempts, also
    after the case moved on (so it can see why), and 404 if it never had one."""
    async with pool.acquire() as conn:
        referral = await repository.get_referral(conn, referral_id=referral_id)
        if referral is None:
            raise not_found("referral")
        own: uuid.UUID | None = None
        if principal.role is Role.PARTNER:
            own = principal.organisation_id
            if own is None or not await repository.has_attempt_of(
                conn, referral_id=referral_id, organisation_id=own
            ):
                raise not_found("referral")
        entries = await repository.timeline(conn, referral_id=referral_id, organisation_id=own)
    telemetry.tag(case_id=referral.case_id, referral_id=referral.id)
    return referral, entries


async def list_referrals(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    case_id: uuid.UUID | None,
    state: ReferralState | None,
    limit: int,
) -> list[Referral]:
    """By case (counsellors and operators), optionally narrowed by state; or by state (operators)."""
    if case_id is None and state is None:
        raise ApiError(
            422,
            "validation_failed",
            "The request is invalid.",
            details=[ErrorDetail(field="query.case_id", reason="Give case_id or state.")],
        )
    async with pool.acquire() as conn:
        if case_id is not None:
            telemetry.tag(case_id=case_id)
            found = await repository.referrals_of_case(conn, case_id=case_id)
            return [r for r in found if state is None or r.state is state][:limit]
        assert state is not None
        if principal.role is not Role.OPERATOR:
            raise ApiError(403, "forbidden", "Listing referrals by state needs the operator role.")
        return await repository.referrals_in_state(conn, state=state, limit=limit)


async def overdue(pool: asyncpg.Pool, *, lifecycle: Lifecycle, limit: int) -> list[Referral]:
    async with pool.acquire() as conn:
        return await repository.overdue_referrals(conn, now=lifecycle.clock(), limit=limit)
