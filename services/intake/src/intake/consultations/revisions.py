"""consultations' use cases of change: a counsellor's update, kept as a revision with the values
before it, and the history of those revisions."""

import uuid
from dataclasses import replace
from datetime import datetime

import asyncpg

from eventkit import outbox, telemetry
from eventkit.auth import Principal
from intake.consent import repository as consents
from intake.consultations import repository
from intake.consultations.domain import (
    ANNOUNCED_FIELDS,
    TRACKED_FIELDS,
    Changes,
    PersonalDataPurged,
    Revision,
    changed_fields,
    decision_changed,
    personal_values_before,
    values_before,
    with_decision,
)
from intake.consultations.handoff import opens_handoff
from intake.consultations.service import ConsultationView, readable
from intake.risk import repository as decisions
from intake.risk.domain import judge
from intake.sealing import Sealer


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
        current = await readable(conn, sealer, principal, consultation_id, for_update=True)
        if current.purged_at is not None:
            raise PersonalDataPurged("This consultation was purged after its retention period.")
        in_force = await consents.latest_consent(conn, consultation_id=consultation_id)
        draft = changes.draft(current)
        decision = judge(changes.case_input(current, draft, in_force))
        updated = with_decision(draft, decision, changes.risk or current.risk)
        names = changed_fields(current, updated, TRACKED_FIELDS)
        sev = decision.severity
        new_decision = decision_changed(current, sev)
        if not names and changes.consent is None and not new_decision:
            return ConsultationView(current, in_force)
        if current.closed_reason == "no_handoff" and opens_handoff(updated.severity, updated.lawful_basis):
            updated = replace(updated, closed_at=None, closed_reason=None)
        updated = replace(updated, revision=current.revision + 1, updated_at=now)
        await repository.update_consultation(conn, sealer, consultation=updated)
        await repository.insert_revision(
            conn,
            sealer,
            consultation_id=consultation_id,
            revision=Revision(
                revision=updated.revision,
                fields=names + (["consent"] if changes.consent is not None else []),
                before=values_before(current, names),
                before_personal=personal_values_before(current, names),
                changed_by=principal.subject,
                changed_at=now,
            ),
        )
        if changes.consent is not None:
            await consents.insert_consent(
                conn, consultation_id=consultation_id, consent=changes.consent, by=principal.subject, at=now
            )
            in_force = await consents.latest_consent(conn, consultation_id=consultation_id)
        if new_decision:
            await decisions.insert_decision(
                conn,
                sealer,
                consultation_id=consultation_id,
                decision=sev,
                answers=updated.risk,
                by=principal.subject,
                at=now,
            )
        if any(name in ANNOUNCED_FIELDS for name in names):
            # The same fact again with the new codes: referral opens at most one referral per
            # case, so a case raised to serious now gets its handoff and a repeat changes nothing.
            await outbox.append(conn, updated.recorded_event())
        telemetry.tag(case_id=consultation_id)
        return ConsultationView(updated, in_force)


async def list_revisions(
    pool: asyncpg.Pool, sealer: Sealer, *, principal: Principal, consultation_id: uuid.UUID
) -> list[Revision]:
    async with pool.acquire() as conn:
        await readable(conn, sealer, principal, consultation_id)
        return await repository.list_revisions(conn, sealer, consultation_id=consultation_id)
