"""web's common HTTP edge: landing page, sign-in and sign-out, language, health."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from eventkit import telemetry
from eventkit.text import Line
from web import service
from web.deps import Checked, Page
from web.domain import safe_next_path
from web.i18n import LANGUAGE_COOKIE, LANGUAGES

router = APIRouter()


@router.get("/")
async def landing(ctx: Page) -> Response:
    if ctx.user is not None:
        return RedirectResponse(ctx.user.home, status_code=303)
    return await ctx.render("index.html")


@router.get("/login")
async def sign_in_form(
    ctx: Page, next: Annotated[str | None, Query(max_length=500)] = None, expired: int = 0
) -> Response:
    if ctx.user is not None:
        return RedirectResponse(safe_next_path(next, ctx.user.home), status_code=303)
    # `expired`: a form was sent after the session ended; its text waits in the browser's draft.
    return await ctx.render(
        "login.html", next=safe_next_path(next, ""), failed=None, username="", expired=bool(expired)
    )


@router.post("/login")
async def sign_in(
    ctx: Checked,
    username: Annotated[Line, Form(min_length=1, max_length=100)],
    password: Annotated[Line, Form(min_length=1, max_length=200)],
    next: Annotated[Line, Form(max_length=500)] = "",
) -> Response:
    try:
        opened = await service.sign_in(
            ctx.pool,
            username=username.strip(),
            password=password,
            client=ctx.request.client.host if ctx.request.client else "unknown",
            visitor_session=ctx.session,
            ttl_s=ctx.settings.session_ttl_s,
            idle_s=ctx.settings.session_idle_s,
            policy=service.DEVELOPMENT_SIGN_IN if ctx.settings.development_mode else service.SignInPolicy(),
        )
    except service.SignInRefused as refused:
        ctx.session = None  # a fresh visitor session (and CSRF token) for the next try
        page = await ctx.render(
            "login.html",
            status_code=429 if refused.reason == "throttled" else 401,
            next=safe_next_path(next, ""),
            failed=refused.reason,
            retry_after=refused.retry_after_s,
            username=username,
        )
        if refused.retry_after_s:
            page.headers["Retry-After"] = str(refused.retry_after_s)
        return page
    assert opened.session.user is not None
    response = RedirectResponse(safe_next_path(next, opened.session.user.home), status_code=303)
    ctx.set_session_cookie(response, opened.cookie_value)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/logout")
async def sign_out(ctx: Checked) -> Response:
    if ctx.session is not None:
        await service.sign_out(ctx.pool, session=ctx.session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie("tsunagu_session", path="/")
    return response


@router.get("/lang/{lang}")
async def choose_language(
    request: Request, lang: str, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    # A link, not a form: choosing a language changes nothing but a display preference.
    target = safe_next_path(next, "/")
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        secure = request.app.state.settings.secure_cookies
        response.set_cookie(
            LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/", secure=secure
        )
    return response


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok", "service": "web"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    try:
        with telemetry.quiet():
            await request.app.state.pool.fetchval("SELECT 1")
        database = "ok"
    except Exception as error:
        database = f"unreachable: {type(error).__name__}"
    ready = database == "ok"
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": {"database": database}},
        status_code=200 if ready else 503,
    )
