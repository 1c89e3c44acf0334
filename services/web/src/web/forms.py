"""The consultation form: what the counsellor entered, checked, and turned into intake's request.

Pure: no I/O. Errors are message keys of the catalogue, per field, so the form can show them
beside the field they concern. The severity and the missing C-SSRS answers are intake's
(`computed`, from POST /v1/severity/compute): the console applies no rule of its own.
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.municipality import validate_municipality_code
from contracts.vocabulary import AgeBand, Channel, Gender, IssueTag, LawfulBasis, Severity, Topic
from web import risk

_CODE_AT_START = re.compile(r"^\s*([0-9]{6})(?![0-9])")
# The consent wording the counsellor reads out: a version intake knows (intake.consent.domain).
CONSENT_TEXT_VERSION = "2026-11-v1"
CONSENT_ITEMS = ("contact", "summary", "risk")
CONSENT_METHODS = ("recorded_line", "chat_click", "written")


def _flag(form: Mapping[str, Any], name: str) -> bool:
    return str(form.get(name, "")).lower() in ("on", "true", "1", "yes")


def municipality_code_of(text: str) -> str | None:
    """The code a counsellor typed or picked ("131041 新宿区 (東京都)" or "131041")."""
    match = _CODE_AT_START.match(text or "")
    return match.group(1) if match else None


def form_address(query: Mapping[str, str]) -> str:
    """The consultation form again, for the same chat or call (whose draft the browser keeps)."""
    wanted = []
    for kind in ("chat", "call"):
        try:
            wanted += [f"{kind}={uuid.UUID(query[kind])}"] if kind in query else []
        except ValueError:
            continue  # not an id: the plain form
    return "/console/consultations/new" + ("?" + "&".join(wanted) if wanted else "")


@dataclass(frozen=True)
class FieldError:
    anchor: str  # the element the summary's link jumps to
    label: str  # catalogue key of the field's label
    message: str  # catalogue key of what is wrong


# Fields that are groups of boxes have no single input to jump to: their note is the target.
_GROUPS = frozenset({"lawful_basis", "consent_items", "emergency_called"})


def field_error(name: str, message: str) -> FieldError:
    if name in risk.CSSRS:
        return FieldError(f"q-{name}", f"cssrs.{name}", message)
    return FieldError(f"{name}-error" if name in _GROUPS else name, f"form.{name}", message)


@dataclass
class ConsultationForm:
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    answers: risk.Answers | None = None
    computed: risk.Computed | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        return value if isinstance(value, str) else default

    def has(self, listname: str, item: str) -> bool:
        return item in self.values.get(listname, ())

    @property
    def error_list(self) -> list[FieldError]:
        """The error summary's entries, in the form's order: each field by its label, with a link
        to it (intake's refusal of the whole form, "form", is said once above the list)."""
        return [field_error(name, key) for name, key in self.errors.items() if name != "form"]


def parse(
    form: Mapping[str, Any],
    tags: list[str],
    consent_items: list[str],
    protective: list[str],
    computed: risk.Computed | None = None,
) -> ConsultationForm:
    """Check the form. `computed` is intake's answer for these answers; None when it had none."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["tags"] = [t for t in tags if t in IssueTag.__members__]
    values["consent_items"] = [i for i in consent_items if i in CONSENT_ITEMS]
    values["protective_factors"] = [p for p in protective if p in risk.PROTECTIVE_FACTORS]
    result = ConsultationForm(values=values)
    errors = result.errors

    if values.get("channel") not in {c.value for c in Channel}:
        errors["channel"] = "form.error.required"
    if values.get("topic") not in {t.value for t in Topic}:
        errors["topic"] = "form.error.required"
    code = municipality_code_of(values.get("municipality", ""))
    if code is None:
        errors["municipality"] = "form.error.municipality"
    else:
        try:
            validate_municipality_code(code)
            values["municipality_code"] = code
        except ValueError:
            errors["municipality"] = "form.error.check_digit"
    if not values.get("summary", "").strip():
        errors["summary"] = "form.error.required"
    elif len(values["summary"]) > 8000:
        errors["summary"] = "form.error.too_long"
    for name, limit in (("contact_name", 200), ("contact_address", 500)):
        if len(values.get(name, "")) > limit:
            errors[name] = "form.error.too_long"
    phone = values.get("contact_phone", "").strip()
    if phone and not re.fullmatch(r"\+?[0-9][0-9\- ]{5,28}", phone):
        errors["contact_phone"] = "form.error.phone"
    if values.get("age_band") and values["age_band"] not in {a.value for a in AgeBand}:
        errors["age_band"] = "form.error.invalid"
    if values.get("gender") and values["gender"] not in {g.value for g in Gender}:
        errors["gender"] = "form.error.invalid"

    result.answers = risk.answers_of(form, values["tags"], values["protective_factors"])
    result.computed = computed
    for question in computed.missing if computed else ():
        errors[question] = "form.error.cssrs_required"

    # Without intake's answer there is no computed level: only the counsellor's own, if chosen,
    # and intake checks the rest when the consultation is recorded.
    chosen = values.get("severity") or (computed.severity.value if computed else "")
    if chosen and chosen not in {s.value for s in Severity}:
        errors["severity"] = "form.error.required"
    elif chosen:
        values["final_severity"] = chosen
        lowering = computed is not None and risk.is_lowering(computed.severity, Severity(chosen))
        if lowering and not values.get("lowering_reason", "").strip():
            errors["lowering_reason"] = "form.error.lowering_reason"

    basis = values.get("lawful_basis", "")
    if basis and basis not in {b.value for b in LawfulBasis}:
        errors["lawful_basis"] = "form.error.invalid"
    if basis == LawfulBasis.CONSENT.value:
        if not values["consent_items"]:
            errors["consent_items"] = "form.error.consent_items"
        if values.get("consent_method") not in CONSENT_METHODS:
            errors["consent_method"] = "form.error.required"
    if chosen == Severity.S4.value and not _flag(form, "emergency_called"):
        errors["emergency_called"] = "form.error.emergency_call"
    serious = chosen in (Severity.S3.value, Severity.S4.value)
    if serious and not basis and not _flag(form, "confirm_no_sharing"):
        # Allowed (intake keeps it without a handoff) but never silently: the counsellor confirms.
        errors["lawful_basis"] = "form.error.serious_without_basis"
    return result


def intake_payload(form: ConsultationForm, *, now_iso: str) -> dict[str, Any]:
    """The body of intake's consultation (POST /v1/consultations, or a chat's close)."""
    v = form.values
    contact = {
        "name": v.get("contact_name", "").strip() or None,
        "phone": v.get("contact_phone", "").strip() or None,
        "address": v.get("contact_address", "").strip() or None,
    }
    body: dict[str, Any] = {
        "channel": v["channel"],
        "topic": v["topic"],
        "municipality_code": v["municipality_code"],
        "summary": v["summary"].strip(),
        "contact": contact if any(contact.values()) else None,
        "need_tags": v["tags"],
        "age_band": v.get("age_band") or AgeBand.UNKNOWN.value,
        "gender": v.get("gender") or Gender.UNKNOWN.value,
        "language": (v.get("language") or "ja").strip().lower()[:2],
        "lawful_basis": v.get("lawful_basis") or None,
    }
    if form.answers is not None:
        body["risk"] = form.answers.risk_body()
    # The counsellor's level is sent only when it differs from the rules': intake recomputes.
    computed = form.computed.severity.value if form.computed else None
    if v.get("severity") and v["severity"] != computed:
        body["severity"] = v["severity"]
        if v.get("lowering_reason", "").strip():
            body["severity_reason"] = v["lowering_reason"].strip()
    if _flag(v, "emergency_called"):
        service = v.get("emergency_service") if v.get("emergency_service") in ("110", "119") else "119"
        body["emergency_call"] = {"service": service, "called_by": "counsellor", "called_at": now_iso}
    if body["lawful_basis"] == LawfulBasis.CONSENT.value:
        body["consent"] = {
            "decision": "given",
            "items": v["consent_items"],
            "recipient_kind": "local_support_org",
            "method": v["consent_method"],
            "text_version": CONSENT_TEXT_VERSION,
        }
    if v.get("source_kind") == "call" and v.get("source_id"):
        body["call_leg_id"] = v["source_id"]
    return body
