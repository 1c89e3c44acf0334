"""The acknowledgement link's use cases: show what it names (never acting), and acknowledge once.

The token is verified here, against the lifecycle's clock; a rejected one raises eventkit's
`LinkRejected` (expired or invalid), which only the HTTP edge turns into an answer.
"""

import asyncpg

from eventkit.errors import not_found
from eventkit.links import LinkClaims, LinkVerifier
from referral.acknowledgement import repository
from referral.acknowledgement.domain import LinkPage
from referral.lifecycle import delivery_track
from referral.lifecycle import repository as lifecycle_repository
from referral.lifecycle.errors import LifecycleError
from referral.lifecycle.service import AttemptView, Lifecycle, attempt_view, locked_referral, store


def verified(links: LinkVerifier, token: str, *, lifecycle: Lifecycle) -> LinkClaims:
    return links.verify(token, now=lifecycle.clock())


async def describe_link(
    pool: asyncpg.Pool, *, token: str, links: LinkVerifier, lifecycle: Lifecycle
) -> LinkPage:
    """Read-only, for GET: mail scanners fetch links, and fetching must not acknowledge."""
    claims = verified(links, token, lifecycle=lifecycle)
    async with pool.acquire() as conn:
        referral = await lifecycle_repository.get_referral(conn, referral_id=claims.referral_id)
        used = await repository.used_link_result(conn, token_id=claims.token_id) is not None
    attempt = referral.attempt_no(claims.attempt) if referral else None
    if referral is None or attempt is None or attempt.organisation_id != claims.organisation_id:
        raise not_found("referral")
    return LinkPage(referral, attempt, used)


async def acknowledge_by_link(
    pool: asyncpg.Pool, *, token: str, links: LinkVerifier, lifecycle: Lifecycle
) -> AttemptView:
    """The signed link acts once: its token id is recorded with the result; using it again only
    shows that result (acknowledged, or why not) and changes nothing."""
    claims = verified(links, token, lifecycle=lifecycle)
    failure: LifecycleError | None = None
    view: AttemptView | None = None
    actor = f"link:{claims.organisation_id}"
    async with locked_referral(
        pool, claims.referral_id, "acknowledge handoff by link", claims.organisation_id
    ) as (conn, referral):
        now = lifecycle.clock()
        if await repository.used_link_result(conn, token_id=claims.token_id) is not None:
            # Only for the error it raises when the link's attempt is not acknowledged (any more).
            delivery_track.acknowledgement_of(
                referral, attempt=claims.attempt, organisation_id=claims.organisation_id
            )
            return attempt_view(referral, claims.attempt, repeated=True)
        try:
            change = delivery_track.acknowledge(
                referral,
                attempt=claims.attempt,
                organisation_id=claims.organisation_id,
                via="link",
                actor=actor,
                at=now,
            )
        except LifecycleError as error:
            failure = error
        else:
            await store(conn, referral, change, acted_by=actor)
            view = attempt_view(change.referral, claims.attempt, repeated=change.repeated)
        await repository.record_used_link(
            conn, claims, used_at=now, result=failure.code if failure else "acknowledged"
        )
    # Raised after the commit: the link is spent even when it could no longer acknowledge.
    if failure is not None:
        raise failure
    assert view is not None
    return view
