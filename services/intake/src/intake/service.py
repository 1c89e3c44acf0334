"""intake's use cases. Recording a consultation is one transaction: the row and its event."""

import json
import uuid
from datetime import UTC, datetime

import asyncpg

from contracts.vocabulary import Channel, LawfulBasis, Severity, Topic
from eventkit import outbox, telemetry
from eventkit.auth import Principal, Role
from eventkit.crypto import Keyring
from eventkit.errors import ApiError, not_found
from intake import repository
from intake.domain import Consultation, Contact, NewConsultation, request_fingerprint


def _seal(keyring: Keyring, consultation: Consultation) -> repository.StoredConsultation:
    context = str(consultation.id)
    contact = consultation.contact
    contact_enc = None
    if contact is not None and not contact.is_empty():
        contact_json = json.dumps(
            {"name": contact.name, "phone": contact.phone, "address": contact.address},
            ensure_ascii=False,
        )
        contact_enc = keyring.encrypt(contact_json, context=f"{context}/contact")
    return repository.StoredConsultation(
        id=consultation.id,
        channel=consultation.channel.value,
        topic=consultation.topic.value,
        municipality_code=consultation.municipality_code,
        severity=consultation.severity.value,
        lawful_basis=consultation.lawful_basis.value if consultation.lawful_basis else None,
        summary_enc=keyring.encrypt(consultation.summary, context=f"{context}/summary"),
        contact_enc=contact_enc,
        recorded_by=consultation.recorded_by,
        recorded_at=consultation.recorded_at,
    )


def _open(keyring: Keyring, stored: repository.StoredConsultation) -> Consultation:
    context = str(stored.id)
    contact = None
    if stored.contact_enc is not None:
        fields = json.loads(keyring.decrypt(stored.contact_enc, context=f"{context}/contact"))
        contact = Contact(**fields)
    return Consultation(
        id=stored.id,
        channel=Channel(stored.channel),
        topic=Topic(stored.topic),
        municipality_code=stored.municipality_code,
        severity=Severity(stored.severity),
        lawful_basis=LawfulBasis(stored.lawful_basis) if stored.lawful_basis else None,
        summary=keyring.decrypt(stored.summary_enc, context=f"{context}/summary"),
        contact=contact,
        recorded_by=stored.recorded_by,
        recorded_at=stored.recorded_at,
    )


async def record_consultation(
    pool: asyncpg.Pool,
    keyring: Keyring,
    *,
    principal: Principal,
    new: NewConsultation,
    idempotency_key: str | None,
) -> tuple[Consultation, bool]:
    """Store the consultation and stage `ConsultationRecorded`; returns (it, created?)."""
    fingerprint = request_fingerprint(new)
    consultation = Consultation(
        id=uuid.uuid4(),
        channel=new.channel,
        topic=new.topic,
        municipality_code=new.municipality_code,
        severity=new.severity,
        lawful_basis=new.lawful_basis,
        summary=new.summary,
        contact=new.contact,
        recorded_by=principal.subject,
        recorded_at=datetime.now(UTC),
    )
    async with pool.acquire() as conn:
        async with conn.transaction():
            if idempotency_key is None or await repository.claim_idempotency_key(
                conn,
                subject=principal.subject,
                key=idempotency_key,
                request_hash=fingerprint,
                consultation_id=consultation.id,
            ):
                await repository.insert_consultation(
                    conn,
                    consultation=_seal(keyring, consultation),
                    trace_id=telemetry.current_trace_id(),
                )
                await outbox.append(conn, consultation.recorded_event())
                telemetry.tag(case_id=consultation.id)
                return consultation, True
        # The key was claimed by an earlier request (its transaction has committed, since the
        # INSERT waited on its row lock): answer with that request's result.
        assert idempotency_key is not None
        earlier = await repository.find_idempotency_key(conn, subject=principal.subject, key=idempotency_key)
        assert earlier is not None
        if earlier[0] != fingerprint:
            raise ApiError(
                409,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request body.",
            )
        stored = await repository.get_consultation(conn, consultation_id=earlier[1])
        assert stored is not None
        first = _open(keyring, stored)
        telemetry.tag(case_id=first.id)
        return first, False


async def get_consultation(
    pool: asyncpg.Pool, keyring: Keyring, *, principal: Principal, consultation_id: uuid.UUID
) -> Consultation:
    async with pool.acquire() as conn:
        stored = await repository.get_consultation(conn, consultation_id=consultation_id)
    # Only the counsellor who recorded it reads the personal data; others get a 404, not a 403,
    # so that ids cannot be probed.
    if stored is None or not _may_read(principal, stored):
        raise not_found("consultation")
    return _open(keyring, stored)


def _may_read(principal: Principal, stored: repository.StoredConsultation) -> bool:
    return principal.role is Role.COUNSELLOR and stored.recorded_by == principal.subject


async def list_own_consultations(
    pool: asyncpg.Pool,
    keyring: Keyring,
    *,
    principal: Principal,
    limit: int,
    before: datetime | None,
) -> list[Consultation]:
    async with pool.acquire() as conn:
        stored = await repository.list_consultations_by(
            conn, recorded_by=principal.subject, limit=limit, before=before
        )
    return [_open(keyring, s) for s in stored]
