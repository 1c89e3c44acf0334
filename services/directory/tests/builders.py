"""Builders the directory's unit and integration tests share (imported relatively: `from ..builders`)."""

import uuid
from datetime import datetime
from typing import Any

from contracts.events import ReofferRequested
from contracts.vocabulary import AgeBand, Gender, Severity, Topic
from directory.matching.domain import ReferralNeeds

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
