"""intake's consultation use cases. Each is one transaction: the rows, their history, the event."""

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from eventkit import outbox, telemetry
from eventkit.auth import Principal, Role
from eventkit.errors import ApiError, ErrorDetail, not_found
from intake import repository, sealing
from intake import severity as rules
from intake.domain import (
    ANNOUNCED_FIELDS,
    CaseDecision,
    CaseInput,
    CaseInvalid,
    Consent,
    ConsentDecision,
    ConsentInput,
    ConsentItem,
    ConsentMethod,
    Consultation,
    Contact,
    Entry,
    NewConsultation,
    RecipientKind,
    changed_fields,
    closing_after_recording,
    disclosable_items,
    judge,
    opens_handoff,
    request_fingerprint,
    with_decision,
)
from intake.sealing import Sealer
from intake.severity import EmergencyCall, RiskAssessment, SeverityDecision

# ---- mapping between the domain and its stored, sealed form --------------------------------


def seal(sealer: Sealer, c: Consultation) -> repository.StoredConsultation:
    contact_json = None
    if c.contact is not None and not c.contact.is_empty():
        contact_json = json.dumps(
            {"name": c.contact.name, "phone": c.contact.phone, "address": c.contact.address},
            ensure_ascii=False,
        )
    return repository.StoredConsultation(
        id=c.id,
        channel=c.channel.value,
        topic=c.topic.value,
        municipality_code=c.municipality_code,
        severity=c.severity.value,
        lawful_basis=c.lawful_basis.value if c.lawful_basis else None,
        summary_enc=sealer.seal(sealing.SUMMARY, c.id, c.summary),
        contact_enc=sealer.seal(sealing.CONTACT, c.id, contact_json),
        recorded_by=c.recorded_by,
        recorded_at=c.recorded_at,
        need_tags=[t.value for t in c.need_tags],
        age_band=c.age_band.value,
        gender=c.gender.value,
        language=c.language,
        rule_version=c.rule_version,
        computed_severity=c.computed_severity.value if c.computed_severity else None,
        risk=c.risk.model_dump(mode="json") if c.risk else None,
        risk_flags=list(c.risk_flags),
        emergency_call=c.emergency_call.model_dump(mode="json") if c.emergency_call else None,
        call_leg_id=c.entry.call_leg_id,
        chat_id=c.entry.chat_id,
        menu_id=c.entry.menu_id,
        menu_digit=c.entry.menu_digit,
        revision=c.revision,
        updated_at=c.updated_at,
        closed_at=c.closed_at,
        closed_reason=c.closed_reason,
        purged_at=c.purged_at,
    )


def unseal(sealer: Sealer, s: repository.StoredConsultation) -> Consultation:
    contact_json = sealer.open(sealing.CONTACT, s.id, s.contact_enc)
    return Consultation(
        id=s.id,
        channel=Channel(s.channel),
        topic=Topic(s.topic),
        municipality_code=s.municipality_code,
        severity=Severity(s.severity),
        lawful_basis=LawfulBasis(s.lawful_basis) if s.lawful_basis else None,
        summary=sealer.open(sealing.SUMMARY, s.id, s.summary_enc),
        contact=Contact(**json.loads(contact_json)) if contact_json else None,
        recorded_by=s.recorded_by,
        recorded_at=s.recorded_at,
        need_tags=tuple(IssueTag(t) for t in s.need_tags),
        age_band=AgeBand(s.age_band),
        gender=Gender(s.gender),
        language=s.language,
        risk=RiskAssessment.model_validate(s.risk) if s.risk else None,
        rule_version=s.rule_version,
        computed_severity=Severity(s.computed_severity) if s.computed_severity else None,
        risk_flags=tuple(s.risk_flags),
        emergency_call=EmergencyCall.model_validate(s.emergency_call) if s.emergency_call else None,
        entry=Entry(s.call_leg_id, s.chat_id, s.menu_id, s.menu_digit),
        revision=s.revision,
        updated_at=s.updated_at,
        closed_at=s.closed_at,
        closed_reason=s.closed_reason,
        purged_at=s.purged_at,
    )


def consent_of(s: repository.StoredConsent | None) -> Consent | None:
    if s is None:
        return None
    return Consent(
        id=s.id,
        decision=ConsentDecision(s.decision),
        items=frozenset(ConsentItem(i) for i in s.items),
        recipient_kind=RecipientKind(s.recipient_kind),
        method=ConsentMethod(s.method),
        text_version=s.text_version,
        obtained_at=s.obtained_at,
        obtained_by=s.obtained_by,
        recorded_at=s.recorded_at,
    )


def _invalid(error: CaseInvalid) -> ApiError:
    return ApiError(
        422,
        "validation_failed",
        "The consultation is invalid.",
        details=[ErrorDetail(field=p.field, reason=p.reason) for p in error.problems],
    )


def judge_case(case: CaseInput) -> CaseDecision:
    try:
        return judge(case)
    except CaseInvalid as error:
        raise _invalid(error) from None


async def _store_consent(
    conn: asyncpg.Connection,
    *,
    consultation_id: uuid.UUID,
    consent: ConsentInput,
    by: str,
    now: datetime,
) -> None:
    await repository.insert_consent(
        conn,
        consent=repository.StoredConsent(
            id=uuid.uuid4(),
            consultation_id=consultation_id,
            decision=consent.decision.value,
            items=sorted(i.value for i in consent.items),
            recipient_kind=consent.recipient_kind.value,
            method=consent.method.value,
            text_version=consent.text_version,
            obtained_at=consent.obtained_at or now,
            obtained_by=by,
            recorded_at=now,
        ),
    )


async def _store_decision(
    conn: asyncpg.Connection,
    sealer: Sealer,
    *,
    consultation: Consultation,
    decision: SeverityDecision,
    by: str,
    now: datetime,
) -> None:
    decision_id = uuid.uuid4()
    await repository.insert_decision(
        conn,
        decision=repository.StoredDecision(
            id=decision_id,
            consultation_id=consultation.id,
            rule_version=decision.rule_version,
            answers=consultation.risk.model_dump(mode="json") if consultation.risk else None,
            computed_severity=decision.computed.value if decision.computed else None,
            flags=list(decision.flags),
            previous_severity=decision.previous.value if decision.previous else None,
            final_severity=decision.final.value,
            direction=decision.direction.value,
            reason_enc=sealer.seal(sealing.DECISION_REASON, decision_id, decision.reason),
            decided_by=by,
            decided_at=now,
        ),
    )


def case_input(new: NewConsultation) -> CaseInput:
    return CaseInput(
        channel=new.channel,
        topic=new.topic,
        need_tags=new.need_tags,
        age_band=new.age_band,
        risk=new.risk,
        requested_severity=new.severity,
        severity_reason=new.severity_reason,
        emergency_call=new.emergency_call,
        lawful_basis=new.lawful_basis,
        consent=new.consent,
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
) -> Consultation:
    """Store a judged consultation, its consent and decision, and stage its announcement.

    Runs in the caller's transaction (a plain POST, a completed call leg, a closed chat)."""
    closing = closing_after_recording(decision.severity.final, decision.lawful_basis)
    consultation = with_decision(
        Consultation(
            id=consultation_id or uuid.uuid4(),
            channel=new.channel,
            topic=new.topic,
            municipality_code=new.municipality_code,
            severity=decision.severity.final,
            lawful_basis=decision.lawful_basis,
            summary=new.summary,
            contact=new.contact,
            recorded_by=principal.subject,
            recorded_at=now,
            need_tags=new.need_tags,
            age_band=new.age_band,
            gender=new.gender,
            language=new.language,
            emergency_call=new.emergency_call,
            entry=entry,
            closed_at=now if closing else None,
            closed_reason=closing,
        ),
        decision,
        new.risk,
    )
    await repository.insert_consultation(
        conn, consultation=seal(sealer, consultation), trace_id=telemetry.current_trace_id()
    )
    if new.consent is not None:
        await _store_consent(
            conn, consultation_id=consultation.id, consent=new.consent, by=principal.subject, now=now
        )
    await _store_decision(
        conn, sealer, consultation=consultation, decision=decision.severity, by=principal.subject, now=now
    )
    await outbox.append(conn, consultation.recorded_event())
    telemetry.tag(case_id=consultation.id)
    return consultation


async def record_consultation(
    pool: asyncpg.Pool,
    sealer: Sealer,
    *,
    principal: Principal,
    new: NewConsultation,
    idempotency_key: str | None,
    now: datetime,
) -> tuple[Consultation, bool]:
    """Store the consultation and stage `ConsultationRecorded`; returns (it, created?)."""
    fingerprint = request_fingerprint(new)
    decision = judge_case(case_input(new))
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
                    leg = await _claim_call_leg(conn, new, principal=principal, now=now)
                    entry = Entry(call_leg_id=leg.id, menu_id=leg.menu_id, menu_digit=leg.digit)
                consultation = await insert_new(
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
                    await repository.update_call_leg(
                        conn,
                        leg=replace(
                            leg,
                            consultation_id=consultation.id,
                            completed_by=principal.subject,
                            completed_at=now,
                        ),
                    )
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
        first = unseal(sealer, stored)
        telemetry.tag(case_id=first.id)
        return first, False


async def _claim_call_leg(
    conn: asyncpg.Connection, new: NewConsultation, *, principal: Principal, now: datetime
) -> repository.StoredCallLeg:
    assert new.call_leg_id is not None
    if new.channel is not Channel.PHONE:
        raise ApiError(
            422,
            "validation_failed",
            "The consultation is invalid.",
            details=[ErrorDetail(field="body.channel", reason="a call leg completes a phone consultation")],
        )
    leg = await repository.get_call_leg(conn, leg_id=new.call_leg_id, for_update=True)
    if leg is None or leg.purged_at is not None:
        raise not_found("call leg")
    if leg.consultation_id is not None:
        raise ApiError(409, "call_leg_completed", "This call leg is already completed into a consultation.")
    return leg


async def _readable(
    conn: asyncpg.Connection, principal: Principal, consultation_id: uuid.UUID, *, for_update: bool = False
) -> repository.StoredConsultation:
    stored = await repository.get_consultation(conn, consultation_id=consultation_id, for_update=for_update)
    # Only the counsellor who recorded it reads the personal data; others get a 404, not a 403,
    # so that ids cannot be probed.
    if stored is None or not _may_read(principal, stored):
        raise not_found("consultation")
    return stored


def _may_read(principal: Principal, stored: repository.StoredConsultation) -> bool:
    return principal.role is Role.COUNSELLOR and stored.recorded_by == principal.subject


@dataclass(frozen=True)
class ConsultationView:
    consultation: Consultation
    consent: Consent | None  # the person's latest decision, if one was recorded


async def get_consultation(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, consultation_id: uuid.UUID
) -> ConsultationView:
    async with pool.acquire() as conn:
        stored = await _readable(conn, principal, consultation_id)
        consent = await repository.latest_consent(conn, consultation_id=consultation_id)
    telemetry.tag(case_id=consultation_id)
    return ConsultationView(unseal(sealer, stored), consent_of(consent))


async def list_own_consultations(
    pool: asyncpg.Pool,
    sealer: Sealer,
    *,
    principal: Principal,
    limit: int,
    before: datetime | None,
) -> list[ConsultationView]:
    async with pool.acquire() as conn:
        stored = await repository.list_consultations_by(
            conn, recorded_by=principal.subject, limit=limit, before=before
        )
        consents = await repository.latest_consents(conn, consultation_ids=[s.id for s in stored])
    return [ConsultationView(unseal(sealer, s), consent_of(consents.get(s.id))) for s in stored]


# ---- updates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """A counsellor's update; fields left out (None) stay as they are."""

    topic: Topic | None = None
    municipality_code: str | None = None
    need_tags: tuple[IssueTag, ...] | None = None
    age_band: AgeBand | None = None
    gender: Gender | None = None
    language: str | None = None
    risk: RiskAssessment | None = None
    severity: Severity | None = None
    severity_reason: str | None = None
    emergency_call: EmergencyCall | None = None
    lawful_basis: LawfulBasis | None = None
    consent: ConsentInput | None = None
    summary: str | None = None
    contact: Contact | None = None


_TRACKED = (
    "topic",
    "municipality_code",
    "need_tags",
    "age_band",
    "gender",
    "language",
    "risk",
    "severity",
    "lawful_basis",
    "emergency_call",
    "summary",
    "contact",
)
_PERSONAL = ("summary", "contact")


def _before_json(c: Consultation, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(c, name)
        if name in _PERSONAL:
            continue
        if isinstance(value, RiskAssessment | EmergencyCall):
            out[name] = value.model_dump(mode="json")
        elif isinstance(value, tuple):
            out[name] = [str(v) for v in value]
        else:
            out[name] = None if value is None else str(value)
    return out


def _personal_before(c: Consultation, names: list[str]) -> str | None:
    personal = {n: getattr(c, n) for n in names if n in _PERSONAL}
    if not personal:
        return None
    if "contact" in personal and personal["contact"] is not None:
        personal["contact"] = vars(personal["contact"])
    return json.dumps(personal, ensure_ascii=False)


async def update_consultation(
    pool: asyncpg.Pool,
    sealer: Sealer,
    *,
    principal: Principal,
    consultation_id: uuid.UUID,
    changes: Changes,
    now: datetime,
) -> ConsultationView:
    """Apply a counsellor's changes: a revision with the values before, a severity decision when
    the level or its inputs changed, and the event again when what it carries changed."""
    async with pool.acquire() as conn, conn.transaction():
        stored = await _readable(conn, principal, consultation_id, for_update=True)
        if stored.purged_at is not None:
            raise ApiError(
                410, "personal_data_purged", "This consultation was purged after its retention period."
            )
        current = unseal(sealer, stored)
        in_force = consent_of(await repository.latest_consent(conn, consultation_id=consultation_id))
        draft = replace(
            current,
            topic=changes.topic or current.topic,
            municipality_code=changes.municipality_code or current.municipality_code,
            need_tags=changes.need_tags if changes.need_tags is not None else current.need_tags,
            age_band=changes.age_band or current.age_band,
            gender=changes.gender or current.gender,
            language=changes.language or current.language,
            emergency_call=changes.emergency_call or current.emergency_call,
            summary=changes.summary if changes.summary is not None else current.summary,
            contact=changes.contact if changes.contact is not None else current.contact,
        )
        risk = changes.risk or current.risk
        decision = judge_case(
            CaseInput(
                channel=draft.channel,
                topic=draft.topic,
                need_tags=draft.need_tags,
                age_band=draft.age_band,
                risk=risk,
                requested_severity=changes.severity,
                severity_reason=changes.severity_reason,
                emergency_call=draft.emergency_call,
                lawful_basis=changes.lawful_basis or current.lawful_basis,
                consent=changes.consent,
                previous_severity=current.severity,
                consent_in_force=in_force,
            )
        )
        updated = with_decision(draft, decision, risk)
        names = changed_fields(current, updated, _TRACKED)
        sev = decision.severity
        decision_changed = (
            sev.final != current.severity
            or sev.computed != current.computed_severity
            or sev.flags != current.risk_flags
            or sev.rule_version != current.rule_version
            or sev.reason is not None
        )
        if not names and changes.consent is None and not decision_changed:
            return ConsultationView(current, in_force)
        if current.closed_reason == "no_handoff" and opens_handoff(updated.severity, updated.lawful_basis):
            updated = replace(updated, closed_at=None, closed_reason=None)
        updated = replace(updated, revision=current.revision + 1, updated_at=now)
        await repository.update_consultation(conn, consultation=seal(sealer, updated))
        revision_id = uuid.uuid4()
        await repository.insert_revision(
            conn,
            revision=repository.StoredRevision(
                id=revision_id,
                consultation_id=consultation_id,
                revision=updated.revision,
                fields=names + (["consent"] if changes.consent is not None else []),
                before=_before_json(current, names),
                before_enc=sealer.seal(
                    sealing.REVISION_BEFORE, revision_id, _personal_before(current, names)
                ),
                changed_by=principal.subject,
                changed_at=now,
            ),
        )
        if changes.consent is not None:
            await _store_consent(
                conn, consultation_id=consultation_id, consent=changes.consent, by=principal.subject, now=now
            )
            in_force = consent_of(await repository.latest_consent(conn, consultation_id=consultation_id))
        if decision_changed:
            await _store_decision(
                conn, sealer, consultation=updated, decision=sev, by=principal.subject, now=now
            )
        if any(name in ANNOUNCED_FIELDS for name in names):
            # The same fact again with the new codes: referral opens at most one referral per
            # case, so a case raised to serious now gets its handoff and a repeat changes nothing.
            await outbox.append(conn, updated.recorded_event())
        telemetry.tag(case_id=consultation_id)
        return ConsultationView(updated, in_force)


async def close_consultation(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, consultation_id: uuid.UUID, now: datetime
) -> ConsultationView:
    async with pool.acquire() as conn, conn.transaction():
        await _readable(conn, principal, consultation_id, for_update=True)
        await repository.close_consultation(
            conn, consultation_id=consultation_id, at=now, reason="counsellor"
        )
        stored = await _readable(conn, principal, consultation_id)
        consent = await repository.latest_consent(conn, consultation_id=consultation_id)
    return ConsultationView(unseal(sealer, stored), consent_of(consent))


@dataclass(frozen=True)
class Revision:
    revision: int
    fields: list[str]
    before: dict[str, Any]
    before_personal: dict[str, Any] | None
    changed_by: str
    changed_at: datetime


async def list_revisions(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, consultation_id: uuid.UUID
) -> list[Revision]:
    async with pool.acquire() as conn:
        await _readable(conn, principal, consultation_id)
        rows = await repository.list_revisions(conn, consultation_id=consultation_id)
    out = []
    for r in rows:
        personal = sealer.open(sealing.REVISION_BEFORE, r.id, r.before_enc)
        out.append(
            Revision(
                r.revision,
                r.fields,
                r.before,
                json.loads(personal) if personal else None,
                r.changed_by,
                r.changed_at,
            )
        )
    return out


@dataclass(frozen=True)
class Decision:
    rule_version: str
    answers: RiskAssessment | None
    computed: Severity | None
    flags: tuple[str, ...]
    previous: Severity | None
    final: Severity
    direction: str
    reason: str | None
    decided_by: str
    decided_at: datetime
    explanation: rules.Explanation | None


async def severity_history(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, consultation_id: uuid.UUID
) -> tuple[Consultation, list[Decision]]:
    """Every decision, each re-derived from its stored answers under its stored rule version."""
    async with pool.acquire() as conn:
        stored = await _readable(conn, principal, consultation_id)
        rows = await repository.list_decisions(conn, consultation_id=consultation_id)
    consultation = unseal(sealer, stored)
    decisions = []
    for r in rows:
        answers = RiskAssessment.model_validate(r.answers) if r.answers else None
        explanation = None
        if answers is not None and r.computed_severity is not None:
            facts = rules.CaseFacts(
                answers, consultation.topic, frozenset(consultation.need_tags), consultation.age_band
            )
            explanation = rules.explain(
                r.rule_version, facts, stored_level=Severity(r.computed_severity), stored_flags=tuple(r.flags)
            )
        decisions.append(
            Decision(
                rule_version=r.rule_version,
                answers=answers,
                computed=Severity(r.computed_severity) if r.computed_severity else None,
                flags=tuple(r.flags),
                previous=Severity(r.previous_severity) if r.previous_severity else None,
                final=Severity(r.final_severity),
                direction=r.direction,
                reason=sealer.open(sealing.DECISION_REASON, r.id, r.reason_enc),
                decided_by=r.decided_by,
                decided_at=r.decided_at,
                explanation=explanation,
            )
        )
    return consultation, decisions


# ---- acceptances (from referral's events) and minimum disclosure ----------------------------


async def record_acceptance(
    conn: asyncpg.Connection,
    *,
    case_id: uuid.UUID,
    organisation_id: uuid.UUID,
    referral_id: uuid.UUID,
    attempt: int,
    at: datetime,
) -> bool:
    return await repository.insert_acceptance(
        conn,
        acceptance=repository.StoredAcceptance(case_id, organisation_id, referral_id, attempt, at, None),
    )


async def withdraw_acceptances(conn: asyncpg.Connection, *, referral_id: uuid.UUID, at: datetime) -> int:
    return await repository.withdraw_acceptances(conn, referral_id=referral_id, at=at)


async def close_after_handoff(conn: asyncpg.Connection, *, case_id: uuid.UUID, at: datetime) -> bool:
    return await repository.close_consultation(conn, consultation_id=case_id, at=at, reason="handoff_closed")


DISCLOSURE_NOTICE = (
    "この開示は個人情報保護法29条の第三者提供記録として記録されました。"
    "This release is recorded as a third-party provision record (APPI art. 29)."
)


@dataclass(frozen=True)
class Disclosure:
    consultation: Consultation
    organisation_id: uuid.UUID
    lawful_basis: LawfulBasis | None
    items: frozenset[ConsentItem]
    withheld: frozenset[ConsentItem]
    record: repository.StoredDisclosure | None


def _provenance(c: Consultation, basis: LawfulBasis, consent: Consent | None) -> str:
    """取得の経緯, which the recipient must record (法30条)."""
    origin = f"#9999 {c.channel.value} consultation of {c.recorded_at.date().isoformat()}"
    if basis is LawfulBasis.CONSENT and consent is not None:
        return (
            f"{origin}; consent given {consent.obtained_at.isoformat()} by {consent.method.value} "
            f"(consent text {consent.text_version})"
        )
    return f"{origin}; provided under {basis.value} without consent"


async def disclose(
    pool: asyncpg.Pool,
    sealer: Sealer,
    *,
    principal: Principal,
    case_id: uuid.UUID,
    wanted: frozenset[ConsentItem] | None,
    now: datetime,
) -> Disclosure:
    """Release to the accepting partner what consent (or the legal basis) covers, and record it."""
    organisation_id = principal.organisation_id
    if principal.role is not Role.PARTNER or organisation_id is None:
        raise not_found("case")
    async with pool.acquire() as conn, conn.transaction():
        acceptance = await repository.find_acceptance(conn, case_id=case_id, organisation_id=organisation_id)
        stored = await repository.get_consultation(conn, consultation_id=case_id) if acceptance else None
        # Another organisation's case, or one this organisation never accepted, does not exist.
        if acceptance is None or stored is None:
            raise not_found("case")
        telemetry.tag(case_id=case_id, organisation_id=organisation_id)
        if stored.purged_at is not None:
            raise ApiError(
                410, "personal_data_purged", "The case's personal data was purged after its retention period."
            )
        consultation = unseal(sealer, stored)
        consent = consent_of(await repository.latest_consent(conn, consultation_id=case_id))
        basis = consultation.lawful_basis
        allowed = disclosable_items(basis, consent)
        asked = wanted if wanted is not None else frozenset(ConsentItem)
        items = allowed & asked
        record = None
        if items and basis is not None:
            record = await repository.append_disclosure(
                conn,
                record=repository.StoredDisclosure(
                    id=uuid.uuid4(),
                    case_id=case_id,
                    organisation_id=organisation_id,
                    referral_id=acceptance.referral_id,
                    items=sorted(i.value for i in items),
                    lawful_basis=basis.value,
                    consent_id=consent.id if consent is not None and basis is LawfulBasis.CONSENT else None,
                    provenance=_provenance(consultation, basis, consent),
                    released_by=principal.subject,
                    released_at=now,
                ),
            )
    return Disclosure(consultation, organisation_id, basis, items, asked - items, record)


async def list_disclosures(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    case_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
) -> list[repository.StoredDisclosure]:
    if (
        organisation_id is not None
        and principal.role is Role.PARTNER
        and not principal.is_partner_of(organisation_id)
    ):
        raise not_found("organisation")
    async with pool.acquire() as conn:
        return await repository.list_disclosures(conn, case_id=case_id, organisation_id=organisation_id)


async def verify_disclosure_chain(pool: asyncpg.Pool) -> tuple[int, int | None]:
    """(rows checked, the position (1-based) of the first row whose hash does not follow, or None)."""
    async with pool.acquire() as conn:
        rows = await repository.disclosure_chain(conn)
    prev = "0" * 64
    for index, row in enumerate(rows):
        if row.prev_hash != prev or repository.disclosure_hash(row, prev) != row.row_hash:
            return len(rows), index + 1
        prev = row.row_hash
    return len(rows), None


# ---- severity dry run -----------------------------------------------------------------------


@dataclass(frozen=True)
class ComputedSeverity:
    """What the current rules make of a risk assessment; nothing is stored."""

    rule_version: str
    severity: Severity
    reasons: tuple[rules.Criterion, ...]
    cssrs_mandatory: bool
    mandatory: tuple[str, ...]
    missing: tuple[str, ...]
    missing_fields: tuple[str, ...]


def compute_severity(
    *, topic: Topic, need_tags: frozenset[IssueTag], age_band: AgeBand, risk: RiskAssessment
) -> ComputedSeverity:
    """Pure: the current rule table applied to the answers, and the screener's mandatory questions."""
    facts = rules.CaseFacts(risk=risk, topic=topic, need_tags=need_tags, age_band=age_band)
    table = rules.CURRENT
    assessment = table.evaluate(facts)
    return ComputedSeverity(
        rule_version=assessment.rule_version,
        severity=assessment.level,
        reasons=tuple(table.criterion(code) for code in assessment.flags),
        cssrs_mandatory=rules.cssrs_is_mandatory(topic, need_tags),
        mandatory=tuple(rules.mandatory_questions(facts)),
        missing=tuple(rules.missing_questions(facts)),
        missing_fields=tuple(rules.missing_mandatory_answers(facts)),
    )
