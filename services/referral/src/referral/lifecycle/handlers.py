"""referral's event edge: translate each event into a domain fact and hand it to the service.

Handlers take the service's `Lifecycle` (deadlines, attempts, clock) as a fourth argument;
`bind` gives the consumer the three-argument handlers it calls.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from contracts.events import (
    Candidate,
    ConsultationRecorded,
    Event,
    HandoffDeliveryFailed,
    HandoffNotified,
    ReferralMatched,
    ReferralUnmatched,
    ReofferMatched,
    ReofferUnmatched,
)
from eventkit.build import from_attributes
from eventkit.consumer import Handler, Message, PermanentFailure
from referral.lifecycle import service
from referral.lifecycle.domain import CaseNeeds
from referral.lifecycle.facts import CaseRecorded, DeliveryFailed, Fact, Matched, Notified, Unmatched
from referral.lifecycle.operator_track import ReofferAccepted, ReofferRefused
from referral.lifecycle.service import Lifecycle

log = logging.getLogger(__name__)

LifecycleHandler = Callable[[asyncpg.Connection, Any, Message, Lifecycle], Awaitable[None]]


def _actor(event: Event) -> str:
    # "/tsunagu/directory" → "directory": the service that reported the fact.
    return type(event).SOURCE.rstrip("/").rsplit("/", 1)[-1]


def case_recorded(event: ConsultationRecorded) -> CaseRecorded:
    """The consultation as the lifecycle sees it: codes only, nothing the person said."""
    return from_attributes(CaseRecorded, event, needs=from_attributes(CaseNeeds, event))


async def on_consultation_recorded(
    conn: asyncpg.Connection, event: ConsultationRecorded, message: Message, lifecycle: Lifecycle
) -> None:
    await service.open_referral(
        conn, case=case_recorded(event), event_id=message.envelope.event_id, lifecycle=lifecycle
    )


def _ranked_candidates(event: ReferralMatched) -> tuple[Candidate, ...]:
    """The directory's ranking, with the chosen organisation's public details where a candidate
    lacks them (an older directory sent them only with the match)."""
    chosen = event.organisation
    if not event.candidates:
        return (
            Candidate(
                organisation_id=chosen.organisation_id,
                rank=1,
                tier="unknown",
                reasons=event.reasons,
                name=chosen.name,
                webhook_url=chosen.webhook_url,
            ),
        )
    filled = []
    for candidate in event.candidates:
        if candidate.organisation_id == chosen.organisation_id:
            candidate = candidate.model_copy(
                update={
                    "name": candidate.name or chosen.name,
                    "webhook_url": candidate.webhook_url or chosen.webhook_url,
                }
            )
        filled.append(candidate)
    return tuple(filled)


ReportedFact = (
    ReferralMatched
    | ReferralUnmatched
    | HandoffNotified
    | HandoffDeliveryFailed
    | ReofferMatched
    | ReofferUnmatched
)


def fact_of(event: ReportedFact) -> Fact:
    """What the directory or notify reported about a referral, as the lifecycle's fact."""
    match event:
        case ReferralMatched():
            return Matched(
                organisation_id=event.organisation.organisation_id,
                reasons=event.reasons,
                candidates=_ranked_candidates(event),
                at=event.matched_at,
            )
        case ReferralUnmatched():
            return from_attributes(Unmatched, event, at=event.unmatched_at)
        case HandoffNotified():
            return from_attributes(Notified, event, at=event.notified_at)
        case HandoffDeliveryFailed():
            return from_attributes(DeliveryFailed, event, at=event.failed_at)
        case ReofferMatched():
            return ReofferAccepted(
                request_id=event.request_id, candidate=event.organisation, at=event.matched_at
            )
        case ReofferUnmatched():
            return from_attributes(ReofferRefused, event, at=event.unmatched_at)


async def on_reported_fact(
    conn: asyncpg.Connection, event: ReportedFact, message: Message, lifecycle: Lifecycle
) -> None:
    try:
        referral = await service.record_fact(
            conn,
            referral_id=event.referral_id,
            case_id=event.case_id,
            fact=fact_of(event),
            actor=_actor(event),
            event_id=message.envelope.event_id,
            lifecycle=lifecycle,
        )
    except service.FactRejected as error:
        raise PermanentFailure(error.reason) from error
    log.info("referral %s is %s after %s", referral.id, referral.state.value, message.envelope.event_type)


def bind(lifecycle: Lifecycle) -> dict[type[Event], Handler]:
    """The handlers as the consumer calls them, with the service's lifecycle settings."""

    def bound(handler: LifecycleHandler) -> Handler:
        async def handle(conn: asyncpg.Connection, event: Any, message: Message) -> None:
            await handler(conn, event, message, lifecycle)

        return handle

    return {event: bound(handler) for event, handler in HANDLERS.items()}


HANDLERS: dict[type[Event], LifecycleHandler] = {
    ConsultationRecorded: on_consultation_recorded,
    ReferralMatched: on_reported_fact,
    ReferralUnmatched: on_reported_fact,
    HandoffNotified: on_reported_fact,
    HandoffDeliveryFailed: on_reported_fact,
    ReofferMatched: on_reported_fact,
    ReofferUnmatched: on_reported_fact,
}
