"""disclosure's use cases: acceptances from referral's events, the minimum disclosure to the
accepting partner with its provision record, and the provision records themselves."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from contracts.vocabulary import AgeBand, IssueTag, LawfulBasis, Severity, Topic
from eventkit import telemetry
from eventkit.auth import Principal, Role
from eventkit.errors import not_found
from intake.consent import repository as consents
from intake.consent.domain import ConsentItem, disclosable_items
from intake.consultations import repository as consultations
from intake.consultations.domain import Contact, PersonalDataPurged
from intake.disclosure import repository
from intake.disclosure.domain import (
    DISCLOSURE_NOTICE,
    NOTHING_RELEASED,
    Acceptance,
    ChainCheck,
    ProvisionRecord,
    check_chain,
    provenance,
)
from intake.risk.answers import RiskAssessment
from intake.sealing import Sealer

log = logging.getLogger(__name__)


async def record_acceptance(conn: asyncpg.Connection, acceptance: Acceptance) -> bool:
    """The organisation may now receive the case's disclosure; False for a repeat."""
    recorded = await repository.insert_acceptance(conn, acceptance=acceptance)
    if recorded:
        log.info("case %s accepted by organisation %s", acceptance.case_id, acceptance.organisation_id)
    return recorded


async def withdraw_acceptances(conn: asyncpg.Connection, *, referral_id: uuid.UUID, at: datetime) -> int:
    return await repository.withdraw_acceptances(conn, referral_id=referral_id, at=at)


@dataclass(frozen=True)
class Disclosure:
    """What leaves intake for the accepting partner: the case's codes, and of its personal data
    only the items consent (or the legal basis) covers and the partner asked for."""

    case_id: uuid.UUID
    organisation_id: uuid.UUID
    lawful_basis: LawfulBasis | None
    items: tuple[ConsentItem, ...]
    withheld: tuple[ConsentItem, ...]
    contact: Contact | None
    summary: str | None
    risk: RiskAssessment | None
    municipality_code: str
    severity: Severity
    topic: Topic
    need_tags: tuple[IssueTag, ...]
    age_band: AgeBand
    language: str
    provision_id: uuid.UUID | None
    released_at: datetime | None
    notice: str


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
        c = (
            await consultations.get_consultation(conn, sealer, consultation_id=case_id)
            if acceptance
            else None
        )
        # Another organisation's case, or one this organisation never accepted, does not exist.
        if acceptance is None or c is None:
            raise not_found("case")
        telemetry.tag(case_id=case_id, organisation_id=organisation_id)
        if c.purged_at is not None:
            raise PersonalDataPurged("The case's personal data was purged after its retention period.")
        consent = await consents.latest_consent(conn, consultation_id=case_id)
        basis = c.lawful_basis
        asked = wanted if wanted is not None else frozenset(ConsentItem)
        items = disclosable_items(basis, consent) & asked
        record = None
        if items and basis is not None:
            record = await repository.append_provision(
                conn,
                record=ProvisionRecord(
                    id=uuid.uuid4(),
                    case_id=case_id,
                    organisation_id=organisation_id,
                    referral_id=acceptance.referral_id,
                    items=sorted(i.value for i in items),
                    lawful_basis=basis.value,
                    consent_id=consent.id if consent is not None and basis is LawfulBasis.CONSENT else None,
                    provenance=provenance(
                        channel=c.channel, recorded_at=c.recorded_at, basis=basis, consent=consent
                    ),
                    released_by=principal.subject,
                    released_at=now,
                ),
            )
    # The case's codes as stored; of its personal data only the items released. Every field is
    # named here: nothing reaches the partner by sharing a name with a consultation field.
    return Disclosure(
        case_id=c.id,
        organisation_id=organisation_id,
        lawful_basis=basis,
        items=tuple(sorted(items)),
        withheld=tuple(sorted(asked - items)),
        contact=c.contact if ConsentItem.CONTACT in items else None,
        summary=c.summary if ConsentItem.SUMMARY in items else None,
        risk=c.risk if ConsentItem.RISK in items else None,
        municipality_code=c.municipality_code,
        severity=c.severity,
        topic=c.topic,
        need_tags=c.need_tags,
        age_band=c.age_band,
        language=c.language,
        provision_id=record.id if record else None,
        released_at=record.released_at if record else None,
        notice=DISCLOSURE_NOTICE if record else NOTHING_RELEASED,
    )


async def list_disclosures(
    pool: asyncpg.Pool,
    *,
    principal: Principal,
    case_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
) -> list[ProvisionRecord]:
    """Provision records of a case or to an organisation; a partner sees only its own."""
    if (
        organisation_id is not None
        and principal.role is Role.PARTNER
        and not principal.is_partner_of(organisation_id)
    ):
        raise not_found("organisation")
    async with pool.acquire() as conn:
        return await repository.list_provisions(conn, case_id=case_id, organisation_id=organisation_id)


async def verify_disclosure_chain(pool: asyncpg.Pool) -> ChainCheck:
    async with pool.acquire() as conn:
        return check_chain(await repository.provision_chain(conn))
