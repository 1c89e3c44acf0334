"""Builders the directory's unit and integration tests share (imported relatively: `from ..builders`)."""

import uuid
from datetime import datetime
from typing import Any

from contracts.events import ReofferRequested
from contracts.vocabulary import AgeBand, Gender, Severity, Topic
from directory.matching.domain import ReferralNeeds
from directory.register.domain import Organisation, OrgType, Service

# A Japanese speaker of unknown age and gender with no tags: what a case needs when a test says nothing.
PLAIN_NEEDS: dict[str, Any] = {
    "need_tags": (),
    "age_band": AgeBand.UNKNOWN,
    "gender": Gender.UNKNOWN,
    "language": "ja",
}


def needs_for(topic: Topic, code: str, severity: Severity = Severity.S3, **more: Any) -> ReferralNeeds:
    """The plain needs (PLAIN_NEEDS), unless `more` says otherwise."""
    return ReferralNeeds(topic, code, severity, **(PLAIN_NEEDS | more))


def organisation_with_service(
    name: str,
    coverage: tuple[str, ...],
    *,
    org_id: uuid.UUID | None = None,
    org: dict[str, Any] | None = None,
    **service: Any,
) -> tuple[Organisation, Service]:
    """An organisation (an NPO unless `org` says otherwise, with `org`'s other fields) and its one
    service, which bears its id and name, covers `coverage` and has `service`'s other fields."""
    org_id = org_id or uuid.uuid4()
    organisation = Organisation(id=org_id, name=name, **({"org_type": OrgType.NPO} | (org or {})))
    return organisation, Service(id=org_id, organisation_id=org_id, name=name, coverage=coverage, **service)


def reoffer_request(
    organisation_id: uuid.UUID, *, requested_at: datetime, municipality_code: str = "131041"
) -> ReofferRequested:
    """An operator's choice of `organisation_id` for a plain case of loneliness (PLAIN_NEEDS)."""
    return ReofferRequested(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        organisation_id=organisation_id,
        topic=Topic.LONELY,
        municipality_code=municipality_code,
        severity=Severity.S3,
        requested_at=requested_at,
        **PLAIN_NEEDS,
    )
