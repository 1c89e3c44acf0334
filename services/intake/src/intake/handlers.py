"""intake's event edge: which organisation accepted a case, and when its handoff ended.

Intake holds the personal data, so it must know who may receive it: the organisation that
acknowledged the handoff (until the referral is withdrawn). Each handler takes from the event what
the use case needs (the acceptance, or plain arguments) and calls it; the consumer tags the span
with the event's ids.
"""

import asyncpg

from contracts.events import Event, HandoffAcknowledged, HandoffOutcomeRecorded, ReferralWithdrawn
from contracts.vocabulary import OutcomeStage
from eventkit.build import from_attributes
from eventkit.consumer import Handler, Message
from intake.consultations import service as consultations
from intake.disclosure import service as disclosure
from intake.disclosure.domain import Acceptance


def acceptance_of(event: HandoffAcknowledged) -> Acceptance:
    """The acceptance as intake keeps it: the event's own fields, not withdrawn (yet)."""
    return from_attributes(Acceptance, event, withdrawn_at=None)


async def on_handoff_acknowledged(
    conn: asyncpg.Connection, event: HandoffAcknowledged, message: Message
) -> None:
    await disclosure.record_acceptance(conn, acceptance_of(event))


async def on_referral_withdrawn(conn: asyncpg.Connection, event: ReferralWithdrawn, message: Message) -> None:
    await disclosure.withdraw_acceptances(conn, referral_id=event.referral_id, at=event.withdrawn_at)


async def on_handoff_outcome_recorded(
    conn: asyncpg.Connection, event: HandoffOutcomeRecorded, message: Message
) -> None:
    if event.stage is OutcomeStage.CLOSED:
        await consultations.close_after_handoff(conn, case_id=event.case_id, at=event.recorded_at)


HANDLERS: dict[type[Event], Handler] = {
    HandoffAcknowledged: on_handoff_acknowledged,
    ReferralWithdrawn: on_referral_withdrawn,
    HandoffOutcomeRecorded: on_handoff_outcome_recorded,
}
