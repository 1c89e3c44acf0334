"""Annotated dependencies of web's routes: the request's session, user, language and page context."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from eventkit.auth import Role
from web import service
from web.api import Endpoint
from web.backends import Backends
from web.config import Settings
from web.domain import Session, User, csrf_matches
from web.i18n import LANGUAGE_COOKIE, Translator, pick_language

T = TypeVar("T")

SESSION_COOKIE = "tsunagu_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


class Redirect(Exception):
    """Raised below a route to answer with a 303 (sign-in needed, say)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class Forbidden(Exception):
    """The signed-in role may not open this screen (the services would refuse it too)."""


class CsrfFailed(Exception):
    """A state-changing request without this session's CSRF token."""


@dataclass
class Ctx:
    """Everything a screen needs for one request."""

    request: Request
    settings: Settings
    pool: asyncpg.Pool
    backends: Backends
    templates: Jinja2Templates
    t: Translator
    session: Session | None
    # Set when this request opened a session: the cookie goes on the response.
    new_cookie: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def user(self) -> User | None:
        return self.session.user if self.session else None

    def token(self) -> str:
        if self.user is None:
            raise Redirect("/login")
        return service.bearer_token(
            self.user,
            signing_key=self.settings.auth_signing_key.get_secret_value(),
            ttl_s=self.settings.token_ttl_s,
        )

    async def call(self, service_name: str, method: str, path: str, **kwargs: Any) -> Any:
        return await self.backends.call(service_name, method, path, token=self.token(), **kwargs)

    async def read(self, endpoint: Endpoint[T], params: dict[str, Any] | None = None, **path: object) -> T:
        """A GET whose answer the screen reads, as web's typed model of it (web.api)."""
        return await self.backends.answer(endpoint, token=self.token(), path=path, params=params)

    async def send(
        self, endpoint: Endpoint[T], body: Any, headers: dict[str, str] | None = None, **path: object
    ) -> T:
        """A call that records something (a POST), whose answer the screen reads, typed like `read`'s."""
        return await self.backends.answer(endpoint, token=self.token(), path=path, json=body, headers=headers)

    async def ensure_session(self) -> Session:
        """A visitor gets a session too: the sign-in form's CSRF token lives in it."""
        if self.session is None:
            opened = await service.open_session(self.pool, user=None, ttl_s=self.settings.session_ttl_s)
            self.session = opened.session
            self.new_cookie = opened.cookie_value
        return self.session

    def set_session_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=self.settings.session_ttl_s,
            httponly=True,
            samesite="strict",
            secure=self.settings.secure_cookies,
            path="/",
        )

    def finish(self, response: Response) -> Response:
        if self.new_cookie is not None:
            self.set_session_cookie(response, self.new_cookie)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        session = await self.ensure_session()
        # Countdowns and other shared script texts are on every page.
        values["js_messages"] = {**self.t.prefixed("js."), **values.get("js_messages", {})}
        context = {
            "request": self.request,
            "t": self.t,
            "lang": self.t.lang,
            "user": self.user,
            "csrf_token": session.csrf_token,
            "path": self.request.url.path,
            "settings": self.settings,
            **values,
        }
        response = self.templates.TemplateResponse(self.request, template, context, status_code=status_code)
        self.finish(response)
        return response

    def check_csrf(self, offered: str | None) -> None:
        if self.session is None or not csrf_matches(self.session.csrf_token, offered):
            raise CsrfFailed()


async def _ctx(request: Request) -> Ctx:
    state = request.app.state
    session = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session = await service.find_session(state.pool, cookie_value=cookie)
    lang = pick_language(request.cookies.get(LANGUAGE_COOKIE))
    return Ctx(
        request=request,
        settings=state.settings,
        pool=state.pool,
        backends=state.backends,
        templates=state.templates,
        t=Translator(lang, state.catalogue[lang]),
        session=session,
    )


Page = Annotated[Ctx, Depends(_ctx)]


def _role(*roles: Role) -> Callable[[Ctx], Awaitable[Ctx]]:
    async def check(ctx: Page) -> Ctx:
        if ctx.user is None:
            raise Redirect(sign_in_location(ctx.request))
        if ctx.user.role not in roles:
            raise Forbidden()
        return ctx

    return check


def sign_in_location(request: Request) -> str:
    """Where to sign in, and where sign-in leads back: the page asked for. A form posted after the
    session expired leads back to the page the form is on (its draft is kept in the browser),
    never to the POST's address, which has no page to show (a 405)."""
    if request.method in ("GET", "HEAD"):
        wanted = request.url.path + ("?" + request.url.query if request.url.query else "")
        return f"/login?next={_quote(wanted)}"
    referer = urlsplit(request.headers.get("referer", ""))
    back = ""
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        back = referer.path + ("?" + referer.query if referer.query else "")
    return "/login?expired=1" + (f"&next={_quote(back)}" if back else "")


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


async def _form_with_csrf(request: Request, ctx: Page) -> Ctx:
    """For POSTs: the CSRF token from the form field or, for scripts, the header."""
    offered = request.headers.get(CSRF_HEADER)
    if offered is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        offered = value if isinstance(value, str) else None
    ctx.check_csrf(offered)
    return ctx


CounsellorPage = Annotated[Ctx, Depends(_role(Role.COUNSELLOR))]
PartnerPage = Annotated[Ctx, Depends(_role(Role.PARTNER))]
OperatorPage = Annotated[Ctx, Depends(_role(Role.OPERATOR))]
Checked = Annotated[Ctx, Depends(_form_with_csrf)]
