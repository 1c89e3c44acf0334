"""referral's HTTP edge: request parameters → service call → response model."""

import html
import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.hours import JST
from contracts.vocabulary import DeclineReason, LawfulBasis, OutcomeCode, OutcomeStage, Severity, Topic
from eventkit.errors import ERROR_RESPONSES, ApiError, DomainError
from eventkit.http import as_api_error
from eventkit.links import LinkClaims, LinkRejected
from referral import service
from referral.deps import AnyRole, CounsellorOrOperator, CurrentLifecycle, Links, Operator, Partner, Pool
from referral.domain import (
    AccompaniedTo,
    Attempt,
    AttemptState,
    Milestone,
    Referral,
    ReferralState,
    TimelineEntry,
    WithdrawReason,
)

router = APIRouter(prefix="/v1", tags=["referrals"], responses=ERROR_RESPONSES)


class TimelineEntryOut(BaseModel):
    state: Milestone = Field(description="The state, or the step, this entry records.")
    at: datetime
    actor: str = Field(description="The service, or the subject of the person, that did it.")
    trace_id: str | None
    attempt: int | None
    organisation_id: uuid.UUID | None
    detail: dict[str, Any] = Field(description="Ids and codes only (reason, cause, channel, outcome).")

    @classmethod
    def of(cls, entry: TimelineEntry) -> "TimelineEntryOut":
        return cls(
            state=entry.milestone,
            at=entry.at,
            actor=entry.actor,
            trace_id=entry.trace_id,
            attempt=entry.attempt,
            organisation_id=entry.organisation_id,
            detail={k: v for k, v in entry.detail.items() if k != "event_id"},
        )


class AttemptOut(BaseModel):
    attempt: int
    organisation_id: uuid.UUID
    state: AttemptState
    offered_at: datetime
    deadline_at: datetime
    ended_at: datetime | None
    decline_reason: DeclineReason | None
    via: str | None

    @classmethod
    def of(cls, a: Attempt) -> "AttemptOut":
        return cls(
            attempt=a.number,
            organisation_id=a.organisation_id,
            state=a.state,
            offered_at=a.offered_at,
            deadline_at=a.deadline_at,
            ended_at=a.ended_at,
            decline_reason=a.decline_reason,
            via=a.via,
        )


class ReferralSummaryOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    state: ReferralState
    topic: Topic
    municipality_code: str
    severity: Severity
    lawful_basis: LawfulBasis
    organisation_id: uuid.UUID | None = Field(description="The current attempt's organisation.")
    attempt: int
    deadline_at: datetime | None = Field(description="The open attempt's deadline, while one is open.")
    created_at: datetime
    updated_at: datetime
    reasons: list[str]

    @classmethod
    def fields_of(cls, r: Referral) -> dict[str, object]:
        return {
            "id": r.id,
            "case_id": r.case_id,
            "state": r.state,
            "topic": r.topic,
            "municipality_code": r.municipality_code,
            "severity": r.severity,
            "lawful_basis": r.lawful_basis,
            "organisation_id": r.organisation_id,
            "attempt": r.attempt,
            "deadline_at": r.deadline_at,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "reasons": list(r.reasons),
        }

    @classmethod
    def of(cls, r: Referral) -> "ReferralSummaryOut":
        return cls.model_validate(cls.fields_of(r))


class ReferralOut(ReferralSummaryOut):
    attempts: list[AttemptOut]
    timeline: list[TimelineEntryOut]

    @classmethod
    def with_timeline(
        cls, r: Referral, entries: list[TimelineEntry], *, only: uuid.UUID | None = None
    ) -> "ReferralOut":
        attempts = [AttemptOut.of(a) for a in r.attempts if only is None or a.organisation_id == only]
        return cls.model_validate(
            cls.fields_of(r) | {"attempts": attempts, "timeline": [TimelineEntryOut.of(e) for e in entries]}
        )


class TimelineOut(BaseModel):
    referral_id: uuid.UUID
    case_id: uuid.UUID
    state: ReferralState
    timeline: list[TimelineEntryOut]


class AttemptResultOut(BaseModel):
    referral_id: uuid.UUID
    attempt: int
    organisation_id: uuid.UUID
    state: AttemptState
    at: datetime | None = Field(description="When it was acknowledged or declined.")
    repeated: bool = Field(description="True if this answered a repeat: nothing new was recorded.")

    @classmethod
    def of(cls, view: service.AttemptView) -> "AttemptResultOut":
        return cls(
            referral_id=view.referral_id,
            attempt=view.attempt,
            organisation_id=view.organisation_id,
            state=view.state,
            at=view.at,
            repeated=view.repeated,
        )


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: DeclineReason
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Why, in your words (needed for 'other'). Kept by referral only, never sent on.",
    )

    @model_validator(mode="after")
    def _other_needs_a_note(self) -> Self:
        if self.reason is DeclineReason.OTHER and not self.note:
            raise ValueError("a note is needed when the reason is 'other'")
        return self


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: OutcomeStage
    outcome: OutcomeCode | None = Field(default=None, description="Required when, and only when, closed.")
    accompanied_to: AccompaniedTo | None = Field(
        default=None, description="Required when, and only when, accompanied."
    )


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: WithdrawReason


ReferralId = Annotated[uuid.UUID, Path(description="The referral id")]
AttemptNo = Annotated[int, Path(ge=1, le=100, description="The handoff attempt, as the alert names it")]
Token = Annotated[str, Path(min_length=20, max_length=2000, description="The token from the alert's link")]


# Declared before /referrals/{referral_id}: "overdue" is not a referral id.
@router.get(
    "/referrals/overdue",
    response_model=list[ReferralSummaryOut],
    summary="Referrals whose open offer is past its deadline",
    description="Operators only. Oldest deadline first; normally the scheduler moves them on within seconds.",
)
async def list_overdue(
    principal: Operator,
    pool: Pool,
    lifecycle: CurrentLifecycle,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReferralSummaryOut]:
    found = await service.overdue(pool, lifecycle=lifecycle, limit=limit)
    return [ReferralSummaryOut.of(r) for r in found]


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralOut,
    summary="Read a referral, its attempts and its timeline",
    description=(
        "Counsellors and operators read any referral; a partner reads only a referral currently "
        "offered to, or accepted by, its own organisation (others answer 404), with its own entries."
    ),
)
async def get_referral(referral_id: ReferralId, principal: AnyRole, pool: Pool) -> ReferralOut:
    referral, entries = await service.get_referral(pool, principal=principal, referral_id=referral_id)
    only = principal.organisation_id if principal.role.value == "partner" else None
    return ReferralOut.with_timeline(referral, entries, only=only)


@router.get(
    "/referrals/{referral_id}/timeline",
    response_model=TimelineOut,
    summary="A referral's timeline: every state with time, actor and trace id",
    description=(
        "Counsellors and operators see everything. A partner sees the entries of its own attempts "
        "(also after the handoff moved on); a referral it was never offered answers 404."
    ),
)
async def get_timeline(referral_id: ReferralId, principal: AnyRole, pool: Pool) -> TimelineOut:
    referral, entries = await service.timeline(pool, principal=principal, referral_id=referral_id)
    return TimelineOut(
        referral_id=referral.id,
        case_id=referral.case_id,
        state=referral.state,
        timeline=[TimelineEntryOut.of(e) for e in entries],
    )


@router.get(
    "/referrals",
    response_model=list[ReferralSummaryOut],
    summary="Find referrals by case, or list those in a state",
    description=(
        "`case_id`: the case's referrals (counsellors and operators), an empty list if it has none. "
        "`state` alone: an operator's work list, longest in that state first."
    ),
)
async def list_referrals(
    principal: CounsellorOrOperator,
    pool: Pool,
    case_id: Annotated[uuid.UUID | None, Query(description="The case (consultation) id")] = None,
    state: Annotated[ReferralState | None, Query(description="Only referrals in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReferralSummaryOut]:
    found = await service.list_referrals(pool, principal=principal, case_id=case_id, state=state, limit=limit)
    return [ReferralSummaryOut.of(r) for r in found]


@router.post(
    "/referrals/{referral_id}/attempts/{attempt}/acknowledge",
    response_model=AttemptResultOut,
    tags=["handoff"],
    summary="Acknowledge (accept) a handoff offered to your organisation",
    description=(
        "A partner token of the organisation the attempt was offered to. Acknowledging again is "
        "harmless (200, `repeated`). After the handoff moved on: 409 `reassigned`; after the "
        "counsellor withdrew it: 409 `withdrawn`."
    ),
)
async def acknowledge(
    referral_id: ReferralId, attempt: AttemptNo, principal: Partner, pool: Pool, lifecycle: CurrentLifecycle
) -> AttemptResultOut:
    view = await service.acknowledge(
        pool, principal=principal, referral_id=referral_id, attempt=attempt, lifecycle=lifecycle
    )
    return AttemptResultOut.of(view)


@router.post(
    "/referrals/{referral_id}/attempts/{attempt}/decline",
    response_model=AttemptResultOut,
    tags=["handoff"],
    summary="Decline a handoff offered to your organisation, with a reason",
    description=(
        "The next ranked organisation is offered the case at once. Declining again is harmless; "
        "declining after acknowledging is 409 `illegal_transition`."
    ),
)
async def decline(
    referral_id: ReferralId,
    attempt: AttemptNo,
    body: DeclineIn,
    principal: Partner,
    pool: Pool,
    lifecycle: CurrentLifecycle,
) -> AttemptResultOut:
    view = await service.decline(
        pool,
        principal=principal,
        referral_id=referral_id,
        attempt=attempt,
        reason=body.reason,
        note=body.note,
        lifecycle=lifecycle,
    )
    return AttemptResultOut.of(view)


@router.post(
    "/referrals/{referral_id}/outcome",
    response_model=ReferralSummaryOut,
    tags=["handoff"],
    summary="Record 面談, 同行支援 or the closing outcome",
    description=(
        "The accepting organisation only. acknowledged → contacted → accompanied (optional, may "
        "repeat) → closed; closing straight after acknowledging is allowed (e.g. could_not_reach). "
        "Anything else is 409 `illegal_transition`."
    ),
)
async def record_outcome(
    referral_id: ReferralId, body: OutcomeIn, principal: Partner, pool: Pool, lifecycle: CurrentLifecycle
) -> ReferralSummaryOut:
    referral = await service.record_outcome(
        pool,
        principal=principal,
        referral_id=referral_id,
        stage=body.stage,
        outcome=body.outcome,
        accompanied_to=body.accompanied_to,
        lifecycle=lifecycle,
    )
    return ReferralSummaryOut.of(referral)


@router.post(
    "/referrals/{referral_id}/withdraw",
    response_model=ReferralSummaryOut,
    tags=["handoff"],
    summary="Withdraw a referral (counsellor), with a reason code",
    description="Ends any open offer. A closed or withdrawn referral cannot be withdrawn (409).",
)
async def withdraw(
    referral_id: ReferralId,
    body: WithdrawIn,
    principal: CounsellorOrOperator,
    pool: Pool,
    lifecycle: CurrentLifecycle,
) -> ReferralSummaryOut:
    referral = await service.withdraw(
        pool, principal=principal, referral_id=referral_id, reason=body.reason, lifecycle=lifecycle
    )
    return ReferralSummaryOut.of(referral)


# ---- the signed link in each alert ---------------------------------------------------------------

_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # The token is in the URL: it must not leak to another site through the Referer header.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — Tsunagu</title>"
        "<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.6}"
        "button{font-size:1.2rem;padding:.6rem 1.4rem}dt{font-weight:bold}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_PAGE_HEADERS)


def _error_response(request: Request, error: ApiError) -> Response:
    if _wants_json(request):
        return JSONResponse(error.body(), status_code=error.status, headers=_PAGE_HEADERS)
    titles = {
        "reassigned": "この依頼は他の団体へ移りました / Reassigned",
        "withdrawn": "この依頼は取り下げられました / Withdrawn",
        "link_expired": "リンクの有効期限切れ / Link expired",
    }
    title = titles.get(error.code, "確認できません / Cannot confirm")
    return _page(title, f"<p>{html.escape(error.message)}</p>", error.status)


def _verify(links: Links, lifecycle: service.Lifecycle, token: str) -> LinkClaims:
    try:
        return links.verify(token, now=lifecycle.clock())
    except LinkRejected as rejected:
        if rejected.reason == "expired":
            raise ApiError(
                410,
                "link_expired",
                "This acknowledgement link has expired. Use the partner portal or API if the handoff "
                "is still offered to you.",
            ) from None
        raise ApiError(401, "invalid_link", "This acknowledgement link is not valid.") from None


def _describe(referral: Referral, attempt: Attempt) -> str:
    deadline = attempt.deadline_at.astimezone(JST).strftime("%Y-%m-%d %H:%M")
    rows = (
        ("緊急度 / Severity", referral.severity.value),
        ("地域 / Municipality", referral.municipality_code),
        ("相談の種類 / Topic", referral.topic.value),
        ("試行 / Attempt", str(attempt.number)),
        ("期限 / Deadline", f"{deadline} JST"),
    )
    cells = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    return f"<dl>{cells}</dl>"


@router.get(
    "/acknowledgements/{token}",
    tags=["handoff"],
    response_class=HTMLResponse,
    summary="The page behind an alert's acknowledgement link (shows, never acknowledges)",
    description=(
        "Mail scanners and previews fetch links, so GET only shows the handoff and a button; the "
        "button POSTs. The signed token is the credential. `Accept: application/json` gives JSON."
    ),
)
async def show_link(
    token: Token, request: Request, pool: Pool, links: Links, lifecycle: CurrentLifecycle
) -> Response:
    try:
        claims = _verify(links, lifecycle, token)
        page = await service.describe_link(pool, claims=claims)
    except ApiError as error:
        return _error_response(request, error)
    except DomainError as error:
        return _error_response(request, as_api_error(error))
    referral, attempt = page.referral, page.attempt
    if _wants_json(request):
        return JSONResponse(
            {
                "referral_id": str(referral.id),
                "attempt": attempt.number,
                "state": attempt.state.value,
                "used": page.used,
                "severity": referral.severity.value,
                "municipality_code": referral.municipality_code,
                "topic": referral.topic.value,
                "deadline_at": attempt.deadline_at.isoformat(),
            },
            headers=_PAGE_HEADERS,
        )
    if attempt.state is AttemptState.ACKNOWLEDGED:
        body = "<p>この依頼は引き受け済みです。/ This handoff has been acknowledged.</p>"
    elif attempt.state in (AttemptState.OFFERED, AttemptState.NOTIFIED) and not page.used:
        body = (
            "<p>この依頼を引き受ける場合はボタンを押してください。このページを開いただけでは引き受けになりません。"
            "<br>Press the button to acknowledge. Opening this page does not acknowledge.</p>"
            '<form method="post"><button type="submit">引き受ける / Acknowledge</button></form>'
        )
    else:
        body = "<p>この依頼は他の団体へ移ったか、取り下げられました。/ This handoff has moved on.</p>"
    return _page("引き継ぎの確認 / Handoff", _describe(referral, attempt) + body)


@router.post(
    "/acknowledgements/{token}",
    tags=["handoff"],
    response_model=AttemptResultOut,
    summary="Acknowledge through an alert's signed link (acts once)",
    description=(
        "Acknowledges the attempt the link names. The link acts once: using it again answers what it "
        "did (200 `repeated`, or the same 409). 409 `reassigned` if the handoff moved on, 410 "
        "`link_expired`, 401 `invalid_link`. HTML unless `Accept: application/json`."
    ),
)
async def use_link(
    token: Token, request: Request, pool: Pool, links: Links, lifecycle: CurrentLifecycle
) -> Response:
    try:
        claims = _verify(links, lifecycle, token)
        view = await service.acknowledge_by_link(pool, claims=claims, lifecycle=lifecycle)
    except ApiError as error:
        return _error_response(request, error)
    except DomainError as error:
        return _error_response(request, as_api_error(error))
    result = AttemptResultOut.of(view)
    if _wants_json(request):
        return JSONResponse(result.model_dump(mode="json"), headers=_PAGE_HEADERS)
    return _page(
        "引き受けました / Acknowledged",
        "<p>ありがとうございます。相談者の連絡先と概要は Tsunagu で確認できます。"
        "<br>Thank you. The person's contact details and summary are now available to you in Tsunagu.</p>",
    )
