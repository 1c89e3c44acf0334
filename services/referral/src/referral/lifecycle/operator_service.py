"""Operators' use cases on a referral nobody took: re-offer it to an organisation of their choosing,
or record that it was handled another way. Each is one transaction with its outbox rows, in the
case's trace, as every other use case of the lifecycle (service.py)."""

import logging
import uuid

import asyncpg

from contracts.vocabulary import HandledElsewhereReason
from eventkit.auth import Principal
from referral.lifecycle import notes, operator_track, repository
from referral.lifecycle.domain import Referral
from referral.lifecycle.service import Lifecycle, locked_referral, store

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
    async with locked_referral(pool, referral_id, "request re-offer", organisation_id) as (conn, referral):
        change = operator_track.request_reoffer(
            referral,
            organisation_id=organisation_id,
            request_id=request_id,
            actor=principal.subject,
            at=lifecycle.clock(),
        )
        await store(conn, referral, change)
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
    async with locked_referral(pool, referral_id, "record handled elsewhere") as (conn, referral):
        change = operator_track.handle_elsewhere(
            referral, reason=reason, actor=principal.subject, at=lifecycle.clock()
        )
        await store(conn, referral, change)
        if note:
            # The operator's words stay in this table: never in an event, a log or the timeline.
            sealed = lifecycle.seal(note, context=notes.handled_elsewhere_context(referral_id))
            await repository.set_handled_elsewhere_note(
                conn, referral_id=referral_id, actor=principal.subject, note_enc=sealed
            )
    log.info("referral %s handled elsewhere (%s)", referral_id, reason.value)
    return change.referral
