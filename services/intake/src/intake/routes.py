"""intake's HTTP edge: request model → service call → response model."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.municipality import MunicipalityCode
from contracts.vocabulary import Channel, LawfulBasis, Severity, Topic
from eventkit.errors import ERROR_RESPONSES
from intake import service
from intake.deps import Counsellor, Keys, Pool
from intake.domain import Consultation, Contact, NewConsultation

router = APIRouter(prefix="/v1", tags=["consultations"], responses=ERROR_RESPONSES)


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9][0-9\- ]{5,28}$")
    address: str | None = Field(default=None, max_length=500)


class ConsultationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    topic: Topic = Field(description="The voice-menu topic, or the chat's chosen topic.")
    municipality_code: MunicipalityCode
    severity: Severity = Field(description="S0–S4; S3 (serious) and S4 (emergency) open a handoff.")
    lawful_basis: LawfulBasis | None = Field(
        default=None,
        description="Consent or the legal exception that allows sharing; without it no handoff.",
    )
    summary: str = Field(min_length=1, max_length=8000, description="Stored encrypted; never sent.")
    contact: ContactIn | None = Field(default=None, description="Stored encrypted; never sent.")

    def to_domain(self) -> NewConsultation:
        contact = Contact(**self.contact.model_dump()) if self.contact else None
        return NewConsultation(
            channel=self.channel,
            topic=self.topic,
            municipality_code=self.municipality_code,
            severity=self.severity,
            lawful_basis=self.lawful_basis,
            summary=self.summary,
            contact=contact,
        )


class ContactOut(BaseModel):
    name: str | None
    phone: str | None
    address: str | None


class ConsultationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    channel: Channel
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis | None
    summary: str
    contact: ContactOut | None
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, c: Consultation) -> "ConsultationOut":
        contact = ContactOut(**vars(c.contact)) if c.contact else None
        return cls(
            id=c.id,
            case_id=c.id,
            channel=c.channel,
            topic=c.topic,
            municipality_code=c.municipality_code,
            severity=c.severity,
            lawful_basis=c.lawful_basis,
            summary=c.summary,
            contact=contact,
            recorded_by=c.recorded_by,
            recorded_at=c.recorded_at,
        )


@router.post(
    "/consultations",
    status_code=201,
    response_model=ConsultationOut,
    summary="Record a consultation",
    description=(
        "Stores the consultation (summary and contact encrypted) and announces it as "
        "`consultation.recorded.v1` without personal data. A retry with the same "
        "`Idempotency-Key` returns the first result with status 200."
    ),
)
async def record_consultation(
    body: ConsultationIn,
    principal: Counsellor,
    pool: Pool,
    keyring: Keys,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=200, description="Makes retries safe.")
    ] = None,
) -> ConsultationOut:
    consultation, created = await service.record_consultation(
        pool, keyring, principal=principal, new=body.to_domain(), idempotency_key=idempotency_key
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/consultations/{consultation.id}"
    return ConsultationOut.of(consultation)


@router.get(
    "/consultations/{consultation_id}",
    response_model=ConsultationOut,
    summary="Read one of your consultations",
)
async def get_consultation(
    consultation_id: uuid.UUID, principal: Counsellor, pool: Pool, keyring: Keys
) -> ConsultationOut:
    consultation = await service.get_consultation(
        pool, keyring, principal=principal, consultation_id=consultation_id
    )
    return ConsultationOut.of(consultation)


@router.get(
    "/consultations",
    response_model=list[ConsultationOut],
    summary="List the consultations you recorded, newest first",
)
async def list_consultations(
    principal: Counsellor,
    pool: Pool,
    keyring: Keys,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[datetime | None, Query(description="Page: recorded before this time")] = None,
) -> list[ConsultationOut]:
    found = await service.list_own_consultations(
        pool, keyring, principal=principal, limit=limit, before=before
    )
    return [ConsultationOut.of(c) for c in found]
