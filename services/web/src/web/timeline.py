"""A case's handoff timeline as the screens show it: organisations and people by their names, the
services' own steps by what they did. The console's case page and the operator's referral page
share it; the case page also says why a case has no handoff, and what a colleague's case shows."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from web import service
from web.api import directory
from web.api.intake import ConsultationSummary, Handoff
from web.api.referral import Referral, ReferralSummary, TimelineEntry
from web.backends import BackendError
from web.deps import Ctx


async def organisation_names(ctx: Ctx, referrals: Sequence[Referral]) -> dict[str, str]:
    """Public names of the organisations a timeline mentions."""
    wanted = {r.organisation_id for r in referrals if r.organisation_id}
    for entry in (e for r in referrals for e in r.timeline):
        wanted |= {o for o in (entry.organisation_id, _link_organisation(entry)) if o}
    return await names_of(ctx, wanted)


async def names_of(ctx: Ctx, wanted: set[str]) -> dict[str, str]:
    """Public names of these organisations (by id), from directory, cached for the process's life;
    an organisation directory cannot name now is left out."""
    cache: dict[str, str] = ctx.request.app.state.organisation_names
    for organisation_id in wanted - cache.keys():
        try:
            found = await ctx.read(directory.ORGANISATION, organisation_id=organisation_id)
            cache[organisation_id] = found.name or organisation_id[:8]
        except BackendError:
            continue
    return {k: cache[k] for k in wanted if k in cache}


def _link_organisation(entry: TimelineEntry) -> str | None:
    """The organisation that answered through its e-mailed link (actor "link:<organisation id>")."""
    return entry.actor.removeprefix("link:") if entry.actor.startswith("link:") else None


async def people_named(ctx: Ctx, referrals: Sequence[Referral]) -> dict[str, str]:
    """The staff and partner users a timeline mentions, by the names colleagues know them by."""
    actors = {e.actor for r in referrals for e in r.timeline}
    users = {a for a in actors if a and ":" not in a and a not in SERVICE_ACTORS}
    return await service.display_names(ctx.pool, usernames=users)


# Why intake hands a case to no local organisation (its consultation's `handoff.reason`). Each has
# a sentence for the counsellor and what they may do next; a reason intake adds later gets the
# general sentence rather than a raw code.
NO_HANDOFF_REASONS = ("not_serious", "consent_refused", "no_lawful_basis", "consent_required")


@dataclass(frozen=True)
class NoHandoffNote:
    reason: str  # catalogue keys
    next: str | None
    tone: str  # alert style: a serious case nobody follows up needs the counsellor's attention


def no_handoff_note(handoff: Handoff | None) -> NoHandoffNote | None:
    """What the case page says when intake opens no handoff; None when one opens (or when nobody
    can say: a colleague's case, read from referral)."""
    if handoff is None or handoff.opens:
        return None
    reason = handoff.reason
    if reason not in NO_HANDOFF_REASONS:
        return NoHandoffNote("case.no_handoff.other", None, "warn")
    tone = "info" if reason == "not_serious" else "warn"
    return NoHandoffNote(f"case.no_handoff.{reason}", f"case.no_handoff_next.{reason}", tone)


def colleague_view(found: ReferralSummary) -> ConsultationSummary:
    """What the case page shows of a colleague's case: referral's codes, no personal data."""
    return ConsultationSummary.model_validate({**found.model_dump(), "recorded_at": found.created_at})


# Facts the services report themselves; the timeline says what each did, not its name.
SERVICE_ACTORS = ("intake", "referral", "directory", "notify")


def announcement(ctx: Ctx, states: list[str]) -> str:
    """What a live region's status line says when the states it shows change (and only then:
    the countdowns beside them are not announced)."""
    return ctx.t("live.now", states="、".join(ctx.t.label("state", s) for s in states[:5]))


@dataclass(frozen=True)
class Timelines:
    """A case's referrals as the timeline shows them, with the names of whom they mention."""

    referrals: list[Referral]
    names: Mapping[str, str]  # organisations, by id
    people: Mapping[str, str] = field(default_factory=dict)  # staff and partner users, by username

    @property
    def states(self) -> list[str]:
        return [r.state for r in self.referrals]


def timeline_html(ctx: Ctx, timelines: Timelines) -> str:
    template = ctx.templates.get_template("partials/timeline.html")
    return template.render(
        t=ctx.t,
        referrals=timelines.referrals,
        names=timelines.names,
        people=timelines.people,
        service_actors=SERVICE_ACTORS,
        trace_url=ctx.settings.trace_url,
    )
