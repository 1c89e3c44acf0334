"""The counsellor console: queue of chats and phone legs, consultation form, case timeline."""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from contracts.municipality import register, validate_municipality_code
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from web import forms, live, risk
from web.api import directory, intake, referral
from web.api.directory import Municipality
from web.api.intake import CallLeg, Chat, ChatSummary, Consultation, ConsultationSummary
from web.backends import BackendError, NotYetAvailable
from web.deps import Checked, CounsellorPage, Ctx
from web.timeline import (
    Timelines,
    announcement,
    colleague_view,
    no_handoff_note,
    organisation_names,
    people_named,
    timeline_html,
)

__all__ = ["organisation_names", "router", "timeline_html"]  # the operator's referral page shares them

router = APIRouter(prefix="/console")
log = logging.getLogger(__name__)

JS_PREFIXES = ("js.", "severity.", "risk.reason.", "state.", "queue.", "cssrs.")


def _js(ctx: Ctx) -> dict[str, str]:
    out: dict[str, str] = {}
    for prefix in JS_PREFIXES:
        out.update(ctx.t.prefixed(prefix))
    return out


# ---- queue ----------------------------------------------------------------------------------


@dataclass
class Queue:
    """Waiting chats (any channel), the counsellor's own open ones, and phone calls not yet
    completed; `missing` names what intake does not serve (yet)."""

    chats: list[ChatSummary] = field(default_factory=list)
    mine: list[ChatSummary] = field(default_factory=list)
    calls: list[CallLeg] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


async def _queue(ctx: Ctx) -> Queue:
    result = Queue()
    try:
        result.chats = await ctx.read(intake.CHATS, params={"state": "waiting"})
        result.mine = await ctx.read(intake.CHATS, params={"state": "active", "mine": "true"})
    except NotYetAvailable:
        result.missing.append("chats")
    try:
        result.calls = await ctx.read(intake.CALL_LEGS, params={"limit": 20})
    except NotYetAvailable:
        result.missing.append("calls")
    return result


def _queue_html(ctx: Ctx, queue: Queue) -> str:
    template = ctx.templates.get_template("partials/queue.html")
    csrf = ctx.session.csrf_token if ctx.session else ""
    return template.render(t=ctx.t, queue=queue, csrf_token=csrf)


@router.get("")
async def queue_page(ctx: CounsellorPage) -> Response:
    queue = await _queue(ctx)
    return await ctx.render("console/queue.html", queue_html=_queue_html(ctx, queue), js_messages=_js(ctx))


@router.get("/queue/stream")
async def queue_stream(ctx: CounsellorPage, request: Request) -> Response:
    async def poll() -> dict[str, Any]:
        queue = await _queue(ctx)
        waiting = len(queue.chats) + len(queue.calls)
        return {"html": _queue_html(ctx, queue), "waiting": waiting}

    return live.stream(request, poll, interval_s=ctx.settings.live_poll_interval_s)


# ---- consultation form ----------------------------------------------------------------------


def _choices(ctx: Ctx) -> dict[str, Any]:
    return {
        "channels": [c.value for c in Channel],
        "topics": [t.value for t in Topic],
        "tags": [t.value for t in IssueTag],
        "severities": [s.value for s in Severity],
        "bases": [b.value for b in LawfulBasis],
        "age_bands": [a.value for a in AgeBand],
        "genders": [g.value for g in Gender],
        "cssrs": risk.CSSRS,
        "after_q2": risk.AFTER_Q2,
        "flag_groups": (
            ("s4", risk.S4_FLAGS),
            ("s3", risk.S3_FLAGS),
            ("s2", risk.S2_FLAGS),
            ("s1", risk.S1_FLAGS),
        ),
        "tristate": risk.TRISTATE,
        "protective_factors": risk.PROTECTIVE_FACTORS,
        "consent_items": forms.CONSENT_ITEMS,
        "consent_methods": forms.CONSENT_METHODS,
        "consent_version": forms.CONSENT_TEXT_VERSION,
    }


async def _source(
    ctx: Ctx, chat: str | None, call: str | None
) -> tuple[dict[str, str], Chat | CallLeg | None]:
    """What the consultation completes (a chat the counsellor took, or a phone call), and what
    intake holds of it."""
    if chat:
        return {"kind": "chat", "id": chat}, await ctx.read(intake.CHAT, chat_id=uuid.UUID(chat))
    if call:
        return {"kind": "call", "id": call}, await ctx.read(intake.CALL_LEG, leg_id=uuid.UUID(call))
    return {}, None


@router.get("/consultations/new")
async def new_consultation(
    ctx: CounsellorPage,
    chat: Annotated[str | None, Query(max_length=64)] = None,
    call: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    source, found = await _source(ctx, chat, call)
    # One key per form shown: a double submit or a retry after a timeout records one case.
    defaults: dict[str, Any] = {"channel": "chat" if chat else "phone", "idempotency_key": str(uuid.uuid4())}
    if found and found.topic:
        defaults["topic"] = found.topic
    if source:
        defaults.update(source_kind=source["kind"], source_id=source["id"])
    consent = found.consent if isinstance(found, Chat) else None
    if consent and consent.decision == "given":
        # The person's own click in the chat is the consent record.
        defaults.update(
            lawful_basis="CONSENT", consent_method="chat_click", consent_items=list(consent.items)
        )
    form = forms.ConsultationForm(values=defaults)
    return await ctx.render(
        "console/consultation_form.html", form=form, source=source, js_messages=_js(ctx), **_choices(ctx)
    )


async def _computed(ctx: Ctx, answers: risk.Answers) -> risk.Computed | None:
    """intake's severity for the answers; None when it cannot say (no topic yet, or unreachable)."""
    body = risk.compute_request(answers)
    if body is None:
        return None
    try:
        return risk.Computed.of(await ctx.call("intake", "POST", "/v1/severity/compute", json=body))
    except (BackendError, KeyError, ValueError) as error:
        log.warning("severity unavailable: %s", type(error).__name__)
        return None


@router.post("/assess")
async def assess(ctx: CounsellorPage, _: Checked, request: Request) -> JSONResponse:
    """The live severity: intake's own computation, or "unavailable" — never a local one."""
    body = await request.json()
    if not isinstance(body, dict):
        return JSONResponse({"error": "invalid"}, status_code=422)
    tags = [t for t in body.get("tags", []) if isinstance(t, str)]
    protective = [p for p in body.get("protective_factors", []) if isinstance(p, str)]
    flat = {k: v for k, v in body.items() if isinstance(v, str)}
    answers = risk.answers_of(flat, tags, protective)
    if risk.compute_request(answers) is None:
        source = "incomplete"
        computed = None
    else:
        computed = await _computed(ctx, answers)
        source = "intake" if computed else "unavailable"
    return JSONResponse(
        {
            "source": source,
            "severity": computed.severity.value if computed else None,
            "reasons": list(computed.reasons) if computed else [],
            "missing": list(computed.missing) if computed else [],
            "rule_version": computed.rule_version if computed else None,
            "suicide_involved": answers.suicide_involved,
        }
    )


def _municipality_item(row: Municipality) -> dict[str, str]:
    where = " ".join(p for p in (row.prefecture_name, row.city_name) if p)
    return {"code": row.code, "label": f"{row.code} {row.name}" + (f" ({where})" if where else "")}


@router.get("/municipalities")
async def municipalities(ctx: CounsellorPage, q: Annotated[str, Query(max_length=50)] = "") -> JSONResponse:
    """Autocomplete from directory's geography: a postal code, a 6-digit code, or a name."""
    text = q.strip().replace("-", "").replace("〒", "").replace("ー", "")
    if not text:
        return JSONResponse({"items": []})
    try:
        if text.isdigit() and len(text) == 7:
            rows = await ctx.read(directory.POSTAL_CODE, postal_code=text)
        elif text.isdigit() and len(text) == 6:
            validate_municipality_code(text)
            rows = [await ctx.read(directory.MUNICIPALITY, code=text)]
        elif text.isdigit():
            return JSONResponse({"items": []})
        else:
            rows = await ctx.read(directory.MUNICIPALITIES, params={"q": q.strip(), "limit": 10})
    except ValueError as error:
        return JSONResponse({"items": [], "problem": str(error)})
    except NotYetAvailable:
        # A directory without name search (an older deployment): a typed code still works.
        return JSONResponse({"items": [], "problem": ctx.t("form.name_search_unavailable")})
    except BackendError as error:
        if error.status not in (404, 422):
            raise
        return JSONResponse({"items": [], "problem": ctx.t("form.municipality_unknown")})
    return JSONResponse({"items": [_municipality_item(r) for r in rows]})


@router.get("/consultations")
async def consultations_address(_: CounsellorPage, request: Request) -> Response:
    """The form's POST address opened as a page (a reload after an error, a sign-in's way back)."""
    return RedirectResponse(forms.form_address(request.query_params), status_code=303)


@router.post("/consultations")
async def record_consultation(ctx: CounsellorPage, _: Checked, request: Request) -> Response:
    raw = await request.form()
    flat = {k: v for k, v in raw.items() if isinstance(v, str)}
    tags = [v for v in raw.getlist("tags") if isinstance(v, str)]
    items = [v for v in raw.getlist("consent_items") if isinstance(v, str)]
    protective = [v for v in raw.getlist("protective_factors") if isinstance(v, str)]
    computed = await _computed(ctx, risk.answers_of(flat, tags, protective))
    form = forms.parse(flat, tags, items, protective, computed)
    source: dict[str, Any] = {}
    if flat.get("source_kind") in ("chat", "call") and flat.get("source_id"):
        source = {"kind": flat["source_kind"], "id": str(uuid.UUID(flat["source_id"]))}
    if form.ok:
        body = forms.intake_payload(form, now_iso=datetime.now(UTC).isoformat())
        headers = {"Idempotency-Key": flat.get("idempotency_key") or str(uuid.uuid4())}
        try:
            if source.get("kind") == "chat":
                # Recording the chat attaches its transcript; ending it is the counsellor's next,
                # separate step in the chat room (the person gets the closing message then).
                body.pop("channel", None)
                body["end_chat"] = False
                created = await ctx.send(
                    intake.RECORD_CHAT, body, headers=headers, chat_id=uuid.UUID(source["id"])
                )
            else:
                created = await ctx.send(intake.RECORD_CONSULTATION, body, headers=headers)
        except BackendError as error:
            if error.status not in (409, 422):
                raise
            for detail in error.details:
                where = str(detail.get("field", "")) if isinstance(detail, dict) else ""
                name = where.rsplit(".", 1)[-1]
                # The form asks for a place by name or code; intake checks the code it became
                # (an abolished or unknown one is marked on the field, the successor in the message).
                name = "municipality" if name == "municipality_code" else name
                if name:
                    form.errors[name] = "form.error.intake"
            form.errors.setdefault("form", "form.error.intake")
            form.values["intake_message"] = error.message
            # intake's reasons name the field and the rule, never the input: safe to show.
            form.values["intake_details"] = [
                f"{d.get('field', '')}: {d.get('reason', '')}" for d in error.details if isinstance(d, dict)
            ]
        else:
            if source.get("kind") == "chat":
                back = f"/console/chats/{source['id']}?case={created.case_id}"
                return RedirectResponse(back, status_code=303)
            return RedirectResponse(f"/console/cases/{created.case_id}?recorded=1", status_code=303)
    return await ctx.render(
        "console/consultation_form.html",
        status_code=422,
        form=form,
        source=source,
        js_messages=_js(ctx),
        **_choices(ctx),
    )


# ---- cases and their timeline ---------------------------------------------------------------


@router.get("/cases")
async def cases(ctx: CounsellorPage) -> Response:
    found = await ctx.read(intake.CONSULTATIONS, params={"limit": 50})
    return await ctx.render("console/cases.html", cases=found)


async def _referral_state(ctx: Ctx, case_id: uuid.UUID) -> Timelines:
    summaries = await ctx.read(referral.REFERRALS, params={"case_id": str(case_id)})
    detailed = [await ctx.read(referral.REFERRAL, referral_id=s.id) for s in summaries]
    return Timelines(
        referrals=detailed,
        names=await organisation_names(ctx, detailed),
        people=await people_named(ctx, detailed),
    )


@router.get("/cases/{case_id}")
async def case_page(
    ctx: CounsellorPage, case_id: uuid.UUID, recorded: int = 0, withdrawn: int = 0
) -> Response:
    state = await _referral_state(ctx, case_id)
    colleague = False
    consultation: Consultation | ConsultationSummary
    try:
        consultation = await ctx.read(intake.CONSULTATION, consultation_id=case_id)
    except BackendError as error:
        # A colleague's case: intake shows the person's details to the counsellor who recorded it
        # only; the others read its codes and handoff from referral (a case nobody knows is 404).
        if not error.not_found or not state.referrals:
            raise
        consultation, colleague = colleague_view(state.referrals[0]), True
    # Only what referral says this counsellor may do now (its `actions`), never a local guess.
    open_ones = [r.id for r in state.referrals if "withdrawn" in r.actions]
    return await ctx.render(
        "console/case.html",
        consultation=consultation,
        colleague=colleague,
        no_handoff=no_handoff_note(consultation.handoff if isinstance(consultation, Consultation) else None),
        municipality_name=register().display_name(consultation.municipality_code),
        has_referrals=bool(state.referrals),
        timeline_html=timeline_html(ctx, state),
        recorded=bool(recorded),
        withdrawn=bool(withdrawn),
        withdrawable=open_ones[-1] if open_ones else None,
        js_messages=_js(ctx),
    )


@router.post("/referrals/{referral_id}/withdraw")
async def withdraw(
    ctx: CounsellorPage,
    _: Checked,
    referral_id: uuid.UUID,
    case_id: Annotated[uuid.UUID, Form()],
    reason: Annotated[str, Form(max_length=40)],
) -> Response:
    chosen = reason if reason in ("resolved_on_call", "duplicate", "person_request") else "other"
    await ctx.call("referral", "POST", f"/v1/referrals/{referral_id}/withdraw", json={"reason": chosen})
    return RedirectResponse(f"/console/cases/{case_id}?withdrawn=1", status_code=303)


@router.get("/cases/{case_id}/stream")
async def case_stream(ctx: CounsellorPage, case_id: uuid.UUID, request: Request) -> Response:
    async def poll() -> dict[str, Any]:
        state = await _referral_state(ctx, case_id)
        return {
            "html": timeline_html(ctx, state),
            "states": state.states,
            "announce": announcement(ctx, state.states),
        }

    return live.stream(request, poll, interval_s=ctx.settings.live_poll_interval_s)
