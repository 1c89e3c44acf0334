"""consultations' use cases: record, read (its severity decisions explained too), list, close.
Each is one transaction: the rows, their history, the event."""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from contracts.vocabulary import Channel
from eventkit import outbox, telemetry
from eventkit.auth import Principal
from eventkit.errors import invalid, not_found
from intake.consent import repository as consents
from intake.consent.domain import Consent
from intake.consultations import repository
from intake.consultations.domain import (
    CallLegCompleted,
    Consultation,
    Entry,
    IdempotencyKeyReused,
    NewConsultation,
    may_read,
    recorded,
    request_fingerprint,
)
from intake.phone import repository as phone
from intake.phone.repository import StoredCallLeg
from intake.risk import repository as decisions
from intake.risk.answers import CaseFacts
from intake.risk.domain import CaseDecision, RecordedDecision, explain, judge
from intake.sealing import Sealer


@dataclass(frozen=True)
class ConsultationView:
    consultation: Consultation
    consent: Consent | None  # the person's latest decision, if one was recorded


async def readable(
    conn: asyncpg.Connection,
    sealer: Sealer,
    principal: Principal,
    consultation_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Consultation:
    """The consultation if `principal` may read it; others get a 404, not a 403, so that ids cannot
    be probed."""
    found = await repository.get_consultation(
        conn, sealer, consultation_id=consultation_id, for_update=for_update
    )
    if found is None or not may_read(principal, found):
        raise not_found("consultation")
    return found


async def view(conn: asyncpg.Connection, consultation: Consultation) -> ConsultationView:
    return ConsultationView(
        consultation, await consents.latest_consent(conn, consultation_id=consultation.id)
    )


async def insert_new(
    conn: asyncpg.Connection,
    sealer: Sealer,
    *,
    principal: Principal,
    new: NewConsultation,
    decision: CaseDecision,
    entry: Entry,
    now: datetime,
    consultation_id: uuid.UUID | None = None,
) -> ConsultationView:
    """Store a judged consultation, its consent and decision, and stage its announcement.

    Runs in the caller's transaction (a plain POST, a completed call leg, a closed chat)."""
    consultation = recorded(
        new, decision, id=consultation_id or uuid.uuid4(), by=principal.subject, at=now, entry=entry
    )
    await repository.insert_consultation(
        conn,
        sealer,
        consultation=consultation,
        trace_id=telemetry.current_trace_id(),
        events=outbox.rows_of(conn, [consultation.recorded_event()]),
    )
    consent = None
    if new.consent is not None:
        consent = await consents.insert_consent(
            conn, consultation_id=consultation.id, consent=new.consent, by=principal.subject, at=now
        )
    await decisions.insert_decision(
        conn,
        sealer,
        consultation_id=consultation.id,
        decision=decision.severity,
        answers=consultation.risk,
        by=principal.subject,
        at=now,
    )
    telemetry.tag(case_id=consultation.id)
    return ConsultationView(consultation, consent)


async def record_consultation(
    pool: asyncpg.Pool,
    sealer: Sealer,
    *,
    principal: Principal,
    new: NewConsultation,
    idempotency_key: str | None,
    now: datetime,
) -> tuple[ConsultationView, bool]:
    """Store the consultation and stage `ConsultationRecorded`; returns (it, created?)."""
    fingerprint = request_fingerprint(new)
    decision = judge(new.case_input())
    case_id = uuid.uuid4()
    async with pool.acquire() as conn:
        async with conn.transaction():
            if idempotency_key is None or await repository.claim_idempotency_key(
                conn,
                subject=principal.subject,
                key=idempotency_key,
                request_hash=fingerprint,
                consultation_id=case_id,
            ):
                entry = Entry()
                leg = None
                if new.call_leg_id is not None:
                    leg = await _claim_call_leg(conn, new)
                    entry = Entry(call_leg_id=leg.id, menu_id=leg.menu_id, menu_digit=leg.digit)
                stored = await insert_new(
                    conn,
                    sealer,
                    principal=principal,
                    new=new,
                    decision=decision,
                    entry=entry,
                    now=now,
                    consultation_id=case_id,
                )
                if leg is not None:
                    completed = replace(
                        leg,
                        consultation_id=stored.consultation.id,
                        completed_by=principal.subject,
                        completed_at=now,
                    )
                    await phone.update_call_leg(conn, leg=completed)
                return stored, True
        # The key was claimed by an earlier request (its transaction has committed, since the
        # INSERT waited on its row lock): answer with that request's result.
        assert idempotency_key is not None
        earlier = await repository.find_idempotency_key(conn, subject=principal.subject, key=idempotency_key)
        assert earlier is not None
        if earlier[0] != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
        first = await readable(conn, sealer, principal, earlier[1])
        telemetry.tag(case_id=first.id)
        return await view(conn, first), False


async def _claim_call_leg(conn: asyncpg.Connection, new: NewConsultation) -> StoredCallLeg:
    assert new.call_leg_id is not None
    if new.channel is not Channel.PHONE:
        raise invalid(
            "body.channel", "a call leg completes a phone consultation", "The consultation is invalid."
        )
    leg = await phone.get_call_leg(conn, leg_id=new.call_leg_id, for_update=True)
    if leg is None or leg.purged_at is not None:
        raise not_found("call leg")
    if leg.consultation_id is not None:
        raise CallLegCompleted("This call leg is already completed into a consultation.")
    return leg


async def get_consultation(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, consultation_id: uuid.UUID
) -> ConsultationView:
    async with pool.acquire() as conn:
        found = await view(conn, await readable(conn, sealer, principal, consultation_id))
    telemetry.tag(case_id=consultation_id)
    return found


async def severity_history(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, consultation_id: uuid.UUID
) -> tuple[Consultation, list[RecordedDecision]]:
    """Every severity decision, each re-derived from its stored answers under its stored rule version."""
    async with pool.acquire() as conn:
        consultation = await readable(conn, sealer, principal, consultation_id)
        found = await decisions.list_decisions(conn, sealer, consultation_id=consultation_id)
    return consultation, [_explained(consultation, d) for d in found]


def _explained(consultation: Consultation, decision: RecordedDecision) -> RecordedDecision:
    if decision.answers is None or decision.computed is None:
        return decision
    facts = CaseFacts(
        decision.answers, consultation.topic, frozenset(consultation.need_tags), consultation.age_band
    )
    explanation = explain(
        decision.rule_version, facts, stored_level=decision.computed, stored_flags=decision.flags
    )
    return replace(decision, explanation=explanation)


async def list_own_consultations(
    pool: asyncpg.Pool,
    sealer: Sealer,
    *,
    principal: Principal,
    limit: int,
    before: datetime | None,
) -> list[ConsultationView]:
    async with pool.acquire() as conn:
        found = await repository.list_consultations_by(
            conn, sealer, recorded_by=principal.subject, limit=limit, before=before
        )
        latest = await consents.latest_consents(conn, consultation_ids=[c.id for c in found])
    return [ConsultationView(c, latest.get(c.id)) for c in found]


async def close_consultation(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, consultation_id: uuid.UUID, now: datetime
) -> ConsultationView:
    async with pool.acquire() as conn, conn.transaction():
        await readable(conn, sealer, principal, consultation_id, for_update=True)
        await repository.close_consultation(
            conn, consultation_id=consultation_id, at=now, reason="counsellor"
        )
        return await view(conn, await readable(conn, sealer, principal, consultation_id))


async def close_after_handoff(conn: asyncpg.Connection, *, case_id: uuid.UUID, at: datetime) -> bool:
    """The handoff is over: the consultation is closed and its retention period starts."""
    return await repository.close_consultation(conn, consultation_id=case_id, at=at, reason="handoff_closed")
