"""The directory's answer to a referral: the matched (or unmatched) event and the alert it calls for. Pure."""

import uuid
from collections import Counter
from datetime import datetime

from contracts import events
from contracts.hours import OpeningHours
from contracts.vocabulary import AlertKind
from directory.matching.domain import Candidate, Exclusion, MatchResult, Referral


def candidate_event(candidate: Candidate) -> events.Candidate:
    organisation = candidate.organisation
    state = candidate.open_state
    return events.Candidate(
        organisation_id=organisation.id,
        rank=candidate.rank,
        tier=candidate.tier.value,
        reasons=candidate.reasons,
        name=organisation.name,
        webhook_url=organisation.webhook_url,
        email=organisation.email,
        channels=tuple(c.value for c in organisation.alert_channels),
        open_now=state.open_now,
        next_opening=state.next_opening,
        hours=OpeningHours.of(candidate.hours),
    )


def reoffer_answer(
    request: events.ReofferRequested, candidate: Candidate | None, refusals: tuple[str, ...], *, at: datetime
) -> events.ReofferMatched | events.ReofferUnmatched:
    """The answer to an operator's choice: the organisation as a candidate, or why it cannot be."""
    if candidate is None:
        return events.ReofferUnmatched(
            case_id=request.case_id,
            referral_id=request.referral_id,
            request_id=request.request_id,
            organisation_id=request.organisation_id,
            reasons=refusals,
            unmatched_at=at,
        )
    return events.ReofferMatched(
        case_id=request.case_id,
        referral_id=request.referral_id,
        request_id=request.request_id,
        organisation=candidate_event(candidate),
        matched_at=at,
    )


def alert_id(referral_id: uuid.UUID, kind: AlertKind) -> uuid.UUID:
    """One alert per referral and kind, whatever redelivers the request."""
    return uuid.uuid5(referral_id, f"directory:{kind.value}")


def operator_alert(
    referral: Referral, kind: AlertKind, detail: tuple[str, ...], *, at: datetime
) -> events.OperatorAlertRaised:
    return events.OperatorAlertRaised(
        case_id=referral.case_id,
        alert_id=alert_id(referral.referral_id, kind),
        kind=kind,
        referral_id=referral.referral_id,
        severity=referral.needs.severity,
        raised_by="directory",
        detail=detail,
        raised_at=at,
    )


def outcome_events(referral: Referral, result: MatchResult, *, at: datetime) -> tuple[events.Event, ...]:
    """The directory's answer to a referral request, and the operator alert it calls for."""
    chosen = result.chosen
    if chosen is None:
        reasons = result.unmatched_reasons()
        return (
            events.ReferralUnmatched(
                case_id=referral.case_id,
                referral_id=referral.referral_id,
                reasons=reasons,
                unmatched_at=at,
            ),
            operator_alert(referral, AlertKind.NO_MATCH, reasons, at=at),
        )
    organisation = chosen.organisation
    matched = events.ReferralMatched(
        case_id=referral.case_id,
        referral_id=referral.referral_id,
        organisation=events.MatchedOrganisation(
            organisation_id=organisation.id,
            name=organisation.name,
            webhook_url=organisation.webhook_url,
        ),
        reasons=chosen.reasons,
        candidates=tuple(candidate_event(c) for c in result.candidates),
        topic=referral.needs.topic,
        municipality_code=referral.needs.municipality_code,
        severity=referral.needs.severity,
        matched_at=at,
        fallback=result.fallback,
    )
    if not result.fallback:
        return (matched,)
    local_exclusions = Counter(e.reason for e in result.excluded)
    detail = (
        f"searched_municipality:{referral.needs.municipality_code}",
        *(f"{reason.value}:{local_exclusions[reason]}" for reason in Exclusion if local_exclusions[reason]),
    )
    return (matched, operator_alert(referral, AlertKind.NO_LOCAL_MATCH, detail, at=at))
