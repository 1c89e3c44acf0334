"""intake's event edge: which organisation accepted a case, and when its handoff ended.

Intake holds the personal data, so it must know who may receive it: the organisation that
acknowledged the handoff (until the referral is withdrawn).
"""

import logging

import asyncpg

from contracts.events import Event, HandoffAcknowledged, HandoffOutcomeRecorded, ReferralWithdrawn
from contracts.vocabulary import OutcomeStage
from eventkit import telemetry
from eventkit.consumer import Handler, Message
from intake import service

log = logging.getLogger(__name__)


async def on_handoff_acknowledged(
    conn: asyncpg.Connection, event: HandoffAcknowledged, message: Message
) -> None:
    telemetry.tag(case_id=event.case_id, referral_id=event.referral_id, organisation_id=event.organisation_id)
    recorded = await service.record_acceptance(
        conn,
        case_id=event.case_id,
        organisation_id=event.organisation_id,
        referral_id=event.referral_id,
        attempt=event.attempt,
        at=event.acknowledged_at,
    )
    if recorded:
        log.info("case %s accepted by organisation %s", event.case_id, event.organisation_id)


async def on_referral_withdrawn(conn: asyncpg.Connection, event: ReferralWithdrawn, message: Message) -> None:
    telemetry.tag(case_id=event.case_id, referral_id=event.referral_id)
    await service.withdraw_acceptances(conn, referral_id=event.referral_id, at=event.withdrawn_at)


async def on_handoff_outcome_recorded(
    conn: asyncpg.Connection, event: HandoffOutcomeRecorded, message: Message
) -> None:
    telemetry.tag(case_id=event.case_id, referral_id=event.referral_id, organisation_id=event.organisation_id)
    if event.stage is OutcomeStage.CLOSED:
        # The handoff is over: the consultation is closed and its retention period starts.
        await service.close_after_handoff(conn, case_id=event.case_id, at=event.recorded_at)


HANDLERS: dict[type[Event], Handler] = {
    HandoffAcknowledged: on_handoff_acknowledged,
    ReferralWithdrawn: on_referral_withdrawn,
    HandoffOutcomeRecorded: on_handoff_outcome_recorded,
}
