"""web's common HTTP edge: landing page, sign-in and sign-out, language, health."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from eventkit import telemetry
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
async def sign_in_form(ctx: Page, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    if ctx.user is not None:
        return RedirectResponse(safe_next_path(next, ctx.user.home), status_code=303)
    return await ctx.render("login.html", next=safe_next_path(next, ""), failed=None, username="")


@router.post("/login")
async def sign_in(
    ctx: Checked,
    username: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        opened = await service.sign_in(
            ctx.pool,
            username=username.strip(),
            password=password,
            visitor_session=ctx.session,
            ttl_s=ctx.settings.session_ttl_s,
            max_failures=ctx.settings.sign_in_max_failures,
            window_s=ctx.settings.sign_in_window_s,
        )
    except service.SignInRefused as refused:
        ctx.session = None  # a fresh visitor session (and CSRF token) for the next try
        return await ctx.render(
            "login.html",
            status_code=429 if refused.reason == "locked" else 401,
            next=safe_next_path(next, ""),
            failed=refused.reason,
            username=username,
        )
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
async def choose_language(lang: str, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    # A link, not a form: choosing a language changes nothing but a display preference.
    target = safe_next_path(next, "/")
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
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
