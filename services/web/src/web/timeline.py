"""A case's handoff timeline as the screens show it: organisations and people by their names, the
services' own steps by what they did. The console's case page and the operator's referral page
share it."""

from collections.abc import Mapping
from typing import Any

from web import service
from web.backends import BackendError
from web.deps import Ctx


async def organisation_names(ctx: Ctx, referrals: list[dict[str, Any]]) -> dict[str, str]:
    """Public names of the organisations a timeline mentions, cached for the process's life."""
    cache: dict[str, str] = ctx.request.app.state.organisation_names
    wanted = {str(r["organisation_id"]) for r in referrals if r.get("organisation_id")}
    for entry in (e for r in referrals for e in r.get("timeline", [])):
        wanted |= {str(o) for o in (entry.get("organisation_id"), _link_organisation(entry)) if o}
    for organisation_id in wanted - cache.keys():
        try:
            found = await ctx.call("directory", "GET", f"/v1/organisations/{organisation_id}")
            cache[organisation_id] = str(found.get("name") or organisation_id[:8])
        except BackendError:
            continue
    return {k: cache[k] for k in wanted if k in cache}


def _link_organisation(entry: Mapping[str, Any]) -> str | None:
    """The organisation that answered through its e-mailed link (actor "link:<organisation id>")."""
    actor = str(entry.get("actor") or "")
    return actor.removeprefix("link:") if actor.startswith("link:") else None


async def people_named(ctx: Ctx, referrals: list[dict[str, Any]]) -> dict[str, str]:
    """The staff and partner users a timeline mentions, by the names colleagues know them by."""
    actors = {str(e.get("actor") or "") for r in referrals for e in r.get("timeline", [])}
    users = {a for a in actors if a and ":" not in a and a not in SERVICE_ACTORS}
    return await service.display_names(ctx.pool, usernames=users)


# Facts the services report themselves; the timeline says what each did, not its name.
SERVICE_ACTORS = ("intake", "referral", "directory", "notify")


def announcement(ctx: Ctx, states: list[str]) -> str:
    """What a live region's status line says when the states it shows change (and only then:
    the countdowns beside them are not announced)."""
    return ctx.t("live.now", states="、".join(ctx.t.label("state", s) for s in states[:5]))


def timeline_html(ctx: Ctx, state: dict[str, Any]) -> str:
    template = ctx.templates.get_template("partials/timeline.html")
    return template.render(
        t=ctx.t,
        referrals=state["referrals"],
        names=state.get("names", {}),
        people=state.get("people", {}),
        service_actors=SERVICE_ACTORS,
        trace_url=ctx.settings.trace_url,
    )
