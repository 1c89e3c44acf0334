"""The voice-menu editor: versions of the #9999 menu (intake's phone sub-package keeps them), each
digit's desk picked by the organisation's name, and switching the live menu only after a
confirmation page that shows what callers will hear instead.
"""

import unicodedata
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from contracts.vocabulary import Topic
from web.api import directory, intake
from web.api.intake import VoiceMenu
from web.backends import BackendError, NotYetAvailable
from web.deps import Checked, Ctx, OperatorPage
from web.timeline import names_of

router = APIRouter(prefix="/ops/voice-menu")

MENU_ROWS = 9
# The names offered while typing a desk's organisation: the active register's first few hundred
# by name (typing any other active organisation's exact name works as well).
SUGGESTIONS = 500
NAME_QUERY_MAX = 100  # the register's search takes this much of a name (a part finds the whole)


def _same_name(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return unicodedata.normalize("NFKC", text).strip().casefold()

    return norm(a) == norm(b)


async def _suggestions(ctx: Ctx) -> list[str]:
    try:
        found = await ctx.read(
            directory.ORGANISATION_SEARCH, params={"active": "true", "per_page": SUGGESTIONS}
        )
    except BackendError:
        return []
    return [o.name for o in found.contents]


async def _organisation_named(ctx: Ctx, name: str) -> uuid.UUID | str:
    """The one active organisation of exactly this name; else why not ("unknown", "ambiguous")."""
    try:
        found = await ctx.read(
            directory.ORGANISATION_SEARCH,
            params={"q": name[:NAME_QUERY_MAX], "active": "true", "per_page": SUGGESTIONS},
        )
    except BackendError as error:
        if error.status != 422:  # a name the search cannot take is no organisation's
            raise
        return "unknown"
    exact = [o for o in found.contents if _same_name(o.name, name)]
    if len(exact) == 1:
        return uuid.UUID(exact[0].id)
    return "ambiguous" if exact else "unknown"


async def _desk_names(ctx: Ctx, menus: list[VoiceMenu]) -> dict[str, str]:
    return await names_of(ctx, {o.desk.organisation_id for m in menus for o in m.options if o.desk})


async def _page(
    ctx: Ctx,
    *,
    done: str = "",
    problems: list[str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    menus: list[VoiceMenu] | None
    try:
        menus = await ctx.read(intake.VOICE_MENUS)
    except NotYetAvailable:
        menus = None
    return await ctx.render(
        "ops/voice_menu.html",
        status_code=status_code,
        menus=menus,
        names=await _desk_names(ctx, menus or []),
        suggestions=await _suggestions(ctx),
        topics=[t.value for t in Topic],
        rows=range(MENU_ROWS),
        done=done,
        problems=problems or [],
        v=values or {},
    )


@router.get("")
async def voice_menu(ctx: OperatorPage, done: str = "") -> Response:
    return await _page(ctx, done=done)


@router.post("")
async def create_voice_menu(ctx: OperatorPage, _: Checked, request: Request) -> Response:
    """A new menu version (versions never change once made); putting it live is a second step."""
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    problems: list[str] = []
    options = []
    for i in range(MENU_ROWS):
        topic = values.get(f"topic_{i}", "")
        if topic not in {t.value for t in Topic}:
            continue
        option: dict[str, Any] = {
            "digit": values.get(f"digit_{i}", ""),
            "topic": topic,
            "label": values.get(f"label_{i}", "") or ctx.t.label("topic", topic),
        }
        desk, number = values.get(f"desk_{i}", ""), values.get(f"number_{i}", "")
        if desk or number:
            organisation = await _organisation_named(ctx, desk) if desk else "missing"
            if not number:
                problems.append(ctx.t("ops.menu.problem.number", n=i + 1))
            elif isinstance(organisation, str):
                problems.append(ctx.t(f"ops.menu.problem.{organisation}", n=i + 1, name=desk))
            else:
                option["desk"] = {
                    "organisation_id": str(organisation),
                    "number": number,
                    "hours": {"always": True},
                }
        options.append(option)
    body: dict[str, Any] = {
        "campaign": values.get("campaign", ""),
        "greeting": values.get("greeting", ""),
        "options": options,
    }
    if values.get("fallback_number"):
        body["fallback_number"] = values["fallback_number"]
    if not problems:
        try:
            await ctx.call("intake", "POST", "/v1/voice-menus", json=body)
            return RedirectResponse("/ops/voice-menu?done=created", status_code=303)
        except BackendError as error:
            if error.status != 422:
                raise
            problems = [
                f"{d.get('field', '')}: {d.get('reason', '')}" for d in error.details if isinstance(d, dict)
            ] or [error.code]
    return await _page(ctx, problems=problems, values=values, status_code=422)


@router.get("/{menu_id}/activate")
async def confirm_activate(ctx: OperatorPage, menu_id: uuid.UUID) -> Response:
    """What callers hear now, and what they will hear once this version goes live."""
    chosen = await ctx.read(intake.VOICE_MENU, menu_id=menu_id)
    live: VoiceMenu | None
    try:
        live = await ctx.read(intake.ACTIVE_VOICE_MENU)
    except BackendError as error:
        if not error.not_found:
            raise
        live = None
    menus = [chosen] + ([live] if live else [])
    return await ctx.render(
        "ops/voice_menu_confirm.html", chosen=chosen, live=live, names=await _desk_names(ctx, menus)
    )


@router.post("/{menu_id}/activate")
async def activate_voice_menu(ctx: OperatorPage, _: Checked, menu_id: uuid.UUID) -> Response:
    await ctx.call("intake", "POST", f"/v1/voice-menus/{menu_id}/activate", json={})
    return RedirectResponse("/ops/voice-menu?done=activated", status_code=303)
