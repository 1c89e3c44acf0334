"""Operators' use cases on a referral nobody took: re-offer it to an organisation of their choosing,
or record that it was handled another way. Each is one transaction with its outbox rows, in the
case's trace, as every other use case of the lifecycle (service.py)."""

import logging
import uuid
from functools import partial

import asyncpg

from contracts.vocabulary import HandledElsewhereReason
from eventkit.auth import Principal
from referral.lifecycle import notes, operator_track, repository
from referral.lifecycle.domain import Referral
from referral.lifecycle.service import Lifecycle, take_step

log = logging.getLogger(__name__)


async def request_reoffer(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    referral_id: uuid.UUID,
    organisation_id: uuid.UUID,
    lifecycle: Lifecycle,
) -> Referral:
    """Ask the directory to confirm the operator's choice; the offer follows its answer."""
    request_id = uuid.uuid4()
    step = partial(operator_track.request_reoffer, organisation_id=organisation_id, request_id=request_id)
    change = await take_step(
        pool, principal, lifecycle, referral_id, "request re-offer", step, organisation_id=organisation_id
    )
    log.info(
        "referral %s: re-offer %s to organisation %s requested", referral_id, request_id, organisation_id
    )
    return change.referral


async def handle_elsewhere(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    referral_id: uuid.UUID,
    reason: HandledElsewhereReason,
    note: str | None,
    lifecycle: Lifecycle,
) -> Referral:
    async def keep_note(conn: asyncpg.Connection) -> None:
        if note:
            # The operator's words stay in this table: never in an event, a log or the timeline.
            sealed = lifecycle.seal(note, context=notes.handled_elsewhere_context(referral_id))
            await repository.set_handled_elsewhere_note(
                conn, referral_id=referral_id, actor=principal.subject, note_enc=sealed
            )

    step = partial(operator_track.handle_elsewhere, reason=reason)
    change = await take_step(
        pool, principal, lifecycle, referral_id, "record handled elsewhere", step, then=keep_note
    )
    log.info("referral %s handled elsewhere (%s)", referral_id, reason.value)
    return change.referral
