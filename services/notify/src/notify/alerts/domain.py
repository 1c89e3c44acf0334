"""Alerts: one per offered attempt, with a delivery per push channel the organisation wants; the
attempt's fate as the partner portal's inbox shows it, and when an alert is overdue. Pure: no I/O."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.vocabulary import AgeBand, IssueTag, OutcomeStage, Severity, Topic
from eventkit.build import from_attributes
from notify.deliveries.domain import Channel, NewDelivery, channel_delivery_id, delivery_key
from notify.webhook import WEBHOOK_TYPE, in_japan_time, municipality_name


class AlertState(StrEnum):
    """The portal inbox's view of an attempt, from the referral's events: its fate, and once
    accepted the handoff's current step (受諾 → 面談 → 同行支援 → 終了)."""

    OFFERED = "offered"
    ACKNOWLEDGED = "acknowledged"
    DECLINED = "declined"
    EXPIRED = "expired"
    REASSIGNED = "reassigned"  # the referral moved on to another organisation
    WITHDRAWN = "withdrawn"
    CONTACTED = "contacted"  # 面談
    ACCOMPANIED = "accompanied"  # 同行支援 (may repeat)
    CLOSED = "closed"  # with an outcome code


_FOLLOWING = frozenset({AlertState.ACKNOWLEDGED, AlertState.CONTACTED, AlertState.ACCOMPANIED})

# From which states an alert may move to each state; anything else is a late or repeated event.
ALERT_TRANSITIONS: Mapping[AlertState, frozenset[AlertState]] = {
    AlertState.ACKNOWLEDGED: frozenset({AlertState.OFFERED}),
    AlertState.DECLINED: frozenset({AlertState.OFFERED}),
    AlertState.EXPIRED: frozenset({AlertState.OFFERED}),
    AlertState.REASSIGNED: frozenset({AlertState.OFFERED, AlertState.DECLINED, AlertState.EXPIRED}),
    AlertState.WITHDRAWN: frozenset({AlertState.OFFERED}) | _FOLLOWING,
    AlertState.CONTACTED: frozenset({AlertState.ACKNOWLEDGED}),
    AlertState.ACCOMPANIED: frozenset({AlertState.CONTACTED, AlertState.ACCOMPANIED}),
    AlertState.CLOSED: _FOLLOWING,
}

# handoff.outcome_recorded.v1's stage → the inbox's step.
STEP_OF_STAGE: Mapping[OutcomeStage, AlertState] = {
    OutcomeStage.CONTACTED: AlertState.CONTACTED,
    OutcomeStage.ACCOMPANIED: AlertState.ACCOMPANIED,
    OutcomeStage.CLOSED: AlertState.CLOSED,
}


@dataclass(frozen=True)
class Offer:
    """The referral offered the case to an organisation (one attempt) until a deadline: where and
    how to alert it, and the case's codes. handlers.py translates handoff.offered into this."""

    case_id: uuid.UUID
    referral_id: uuid.UUID
    attempt: int
    organisation_id: uuid.UUID
    webhook_url: str | None
    email: str | None
    channels: tuple[str, ...]  # as the organisation asked for them, the portal included
    topic: Topic
    municipality_code: str
    severity: Severity
    need_tags: tuple[IssueTag, ...]
    age_band: AgeBand
    language: str
    offered_at: datetime
    deadline_at: datetime


@dataclass(frozen=True)
class AttemptMoved:
    """The referral moved an attempt on (attempt None: every attempt of the referral) to `state`.
    handlers.py translates an attempt's fate (acknowledged, declined, expired, ...) into this."""

    referral_id: uuid.UUID
    attempt: int | None
    state: AlertState
    at: datetime


@dataclass(frozen=True)
class StepRecorded:
    """The accepting organisation recorded a step of the handoff (面談, 同行支援 or the close), with the
    destination of a 同行支援 or the closing outcome code. handlers.py translates
    handoff.outcome_recorded into this."""

    referral_id: uuid.UUID
    organisation_id: uuid.UUID
    stage: OutcomeStage
    accompanied_to: str | None
    outcome: str | None
    at: datetime

    @property
    def step(self) -> AlertState:
        return STEP_OF_STAGE[self.stage]


@dataclass(frozen=True)
class _AlertFields:
    """What an alert holds, queued or stored: its key, the attempt, the case's codes and the
    channels the organisation asked for."""

    id: uuid.UUID
    alert_key: str
    referral_id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    attempt: int
    topic: str
    municipality_code: str
    severity: str
    need_tags: Sequence[str]
    age_band: str
    language: str
    channels: Sequence[str]
    offered_at: datetime
    deadline_at: datetime


@dataclass(frozen=True)
class NewAlert(_AlertFields):
    channels: tuple[Channel, ...]  # the push channels only, in the same place as the stored alert's
    deliveries: tuple[NewDelivery, ...]


def alert_for_offer(offer: Offer, *, trace_headers: Mapping[str, str]) -> NewAlert:
    """The alert of one offered attempt, with a delivery per push channel the organisation wants."""
    key = delivery_key(offer.referral_id, offer.organisation_id, offer.attempt)
    payload: dict[str, Any] = {
        "type": WEBHOOK_TYPE,
        "delivery_id": key,
        "referral_id": str(offer.referral_id),
        "case_id": str(offer.case_id),
        "organisation_id": str(offer.organisation_id),
        "attempt": offer.attempt,
        "topic": offer.topic.value,
        "municipality_code": offer.municipality_code,
        "severity": offer.severity.value,
        "offered_at": offer.offered_at.isoformat(),
        "deadline_at": offer.deadline_at.isoformat(),
        "need_tags": [tag.value for tag in offer.need_tags],
        "age_band": offer.age_band.value,
        "language": offer.language,
        "municipality_name": municipality_name(offer.municipality_code),
        "deadline_at_jst": in_japan_time(offer.deadline_at),
    }
    channels = tuple(channel for channel in Channel if channel.value in offer.channels)
    deliveries = tuple(
        NewDelivery(
            id=uuid.uuid4(),
            delivery_id=channel_delivery_id(key, channel),
            referral_id=offer.referral_id,
            case_id=offer.case_id,
            organisation_id=offer.organisation_id,
            attempt=offer.attempt,
            channel=channel,
            webhook_url=offer.webhook_url if channel is Channel.WEBHOOK else None,
            email_to=offer.email if channel is Channel.EMAIL else None,
            payload=payload,
            trace_headers=dict(trace_headers),
        )
        for channel in channels
    )
    # The offer's ids, place, language and times by name; its codes as the stored strings.
    return from_attributes(
        NewAlert,
        offer,
        id=uuid.uuid4(),
        alert_key=key,
        topic=offer.topic.value,
        severity=offer.severity.value,
        need_tags=tuple(tag.value for tag in offer.need_tags),
        age_band=offer.age_band.value,
        channels=channels,
        deliveries=deliveries,
    )


@dataclass(frozen=True)
class Alert(_AlertFields):
    """A stored alert: the attempt as the organisation's inbox holds it."""

    state: str
    state_at: datetime
    delivery_failed_at: datetime | None
    accompanied_to: str | None = None  # the latest 同行支援's destination (a code)
    outcome: str | None = None  # the closing outcome code


def is_overdue(alert: Alert, *, now: datetime) -> bool:
    """Still offered and past its deadline: the referral is about to move it on."""
    return alert.state == AlertState.OFFERED and alert.deadline_at < now


def may_answer(alert: Alert) -> bool:
    """Whether the partner may still acknowledge or decline it: only while it is offered."""
    return alert.state == AlertState.OFFERED


@dataclass(frozen=True)
class InboxItem:
    """One alert in the partner's inbox: the alert, each channel's delivery status, whether it is
    overdue, and where the partner may answer it (nowhere once it is no longer offered)."""

    alert: Alert
    channels: Mapping[str, str]
    overdue: bool
    actions: Mapping[str, str]

    @property
    def municipality_name(self) -> str | None:
        return municipality_name(self.alert.municipality_code)

    @property
    def deadline_at_jst(self) -> str:
        return in_japan_time(self.alert.deadline_at)
