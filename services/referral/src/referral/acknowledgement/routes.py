"""The acknowledgement link's HTTP edge: a page (or JSON) for GET, the acknowledgement for POST.
The link's own answers — 410 expired, 401 invalid — exist only here, as HTTP."""

from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from eventkit.deps import Pool
from eventkit.errors import ApiError, DomainError
from eventkit.http import as_api_error
from eventkit.links import LinkRejected
from eventkit.routing import api_router
from referral.acknowledgement import page, service
from referral.deps import CurrentLifecycle, Links
from referral.lifecycle.routes import AttemptResultOut

router = api_router(tags=["referrals"])

Token = Annotated[str, Path(min_length=20, max_length=2000, description="The token from the alert's link")]

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # The token is in the URL: it must not leak to another site through the Referer header.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _rejected(rejected: LinkRejected) -> ApiError:
    if rejected.reason == "expired":
        return ApiError(
            410,
            "link_expired",
            "This acknowledgement link has expired. Use the partner portal or API if the handoff "
            "is still offered to you.",
        )
    return ApiError(401, "invalid_link", "This acknowledgement link is not valid.")


def _answer(request: Request, *, json: Any, html: str, status: int = 200) -> Response:
    """JSON for a caller that asks for it, else the page; never cached, never referred on."""
    if _wants_json(request):
        return JSONResponse(json, status_code=status, headers=PAGE_HEADERS)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _refused(request: Request, refusal: LinkRejected | DomainError) -> Response:
    error = _rejected(refusal) if isinstance(refusal, LinkRejected) else as_api_error(refusal)
    return _answer(
        request, json=error.body(), html=page.refusal(error.code, error.message), status=error.status
    )


@router.get("/acknowledgements/{token}", tags=["handoff"], response_class=HTMLResponse)
async def show_link(
    token: Token, request: Request, pool: Pool, links: Links, lifecycle: CurrentLifecycle
) -> Response:
    """The page behind an alert's acknowledgement link (shows, never acknowledges)

    Mail scanners and previews fetch links, so GET only shows the handoff and a button; the button POSTs.
    The signed token is the credential. `Accept: application/json` gives JSON.
    """
    try:
        shown = await service.describe_link(pool, token=token, links=links, lifecycle=lifecycle)
    except (LinkRejected, DomainError) as refusal:
        return _refused(request, refusal)
    return _answer(request, json=page.as_json(shown), html=page.handoff(shown))


@router.post("/acknowledgements/{token}", tags=["handoff"], response_model=AttemptResultOut)
async def use_link(
    token: Token, request: Request, pool: Pool, links: Links, lifecycle: CurrentLifecycle
) -> Response:
    """Acknowledge through an alert's signed link (acts once)

    Acknowledges the attempt the link names. The link acts once: using it again answers what it did (200
    `repeated`, or the same 409). 409 `reassigned` if the handoff moved on, 410 `link_expired`, 401
    `invalid_link`. HTML unless `Accept: application/json`.
    """
    try:
        view = await service.acknowledge_by_link(pool, token=token, links=links, lifecycle=lifecycle)
    except (LinkRejected, DomainError) as refusal:
        return _refused(request, refusal)
    result = AttemptResultOut.model_validate(view).model_dump(mode="json")
    return _answer(request, json=result, html=page.acknowledged())
