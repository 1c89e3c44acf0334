"""Builders notify's unit and integration tests share (imported relatively: `from ..builders`)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.events import HandoffOffered, OfferedOrganisation
from contracts.vocabulary import AgeBand, IssueTag, Severity, Topic


def handoff_offered(
    *, at: datetime | None = None, deadline_in: timedelta = timedelta(minutes=30), **more: Any
) -> HandoffOffered:
    """Attempt 1 of a new referral, offered `at` (now) until `deadline_in` later: an S3 LONELY case
    in Shinjuku, a Vietnamese-speaking teenager needing DV and HIK help, offered to a new
    organisation on its portal only, unless `more` says otherwise."""
    at = at or datetime.now(UTC)
    plain: dict[str, Any] = {
        "case_id": uuid.uuid4(),
        "referral_id": uuid.uuid4(),
        "attempt": 1,
        "organisation": OfferedOrganisation(
            organisation_id=uuid.uuid4(), name="【サンプル】", channels=("portal",)
        ),
        "topic": Topic.LONELY,
        "municipality_code": "131041",
        "severity": Severity.S3,
        "deadline_at": at + deadline_in,
        "offered_at": at,
        "need_tags": (IssueTag.DV, IssueTag.HIK),
        "age_band": AgeBand.TEEN,
        "language": "vi",
    }
    return HandoffOffered(**(plain | more))
