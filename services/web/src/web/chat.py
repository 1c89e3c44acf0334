"""The web chat: an anonymous person talks to a counsellor over WebSocket, through intake.

The person has no account. The web package starts the chat in intake with its own service
credential, keeps nothing of the conversation itself, and gives the browser a key (an HMAC of
the chat id) so a reloaded page can take the same chat up again. The counsellor's side is a room
in the console, over the same kind of socket, with the counsellor's own token.

Both sockets relay: what a side types is sent to intake at once; what intake holds is asked for
about every second (one small request per open chat) and pushed when something is new.
"""

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import RedirectResponse, Response

from contracts.vocabulary import Topic
from eventkit import telemetry
from eventkit.auth import Role, mint_token
from web import service
from web.api import intake
from web.api.intake import Chat
from web.backends import BackendError, Backends, refusal
from web.config import Settings
from web.deps import SESSION_COOKIE, Checked, CounsellorPage, Page
from web.i18n import LANGUAGE_COOKIE, Translator, pick_language

log = logging.getLogger(__name__)

router = APIRouter()

MAX_MESSAGE = 2000
# The languages a person may chat in, each named in itself, as intake knows them (Filipino is tl).
# The bot answers in it (intake's texts); the chat page's own words come from messages/chat/<code>.json
# over the English catalogue (the site's header and footer stay in English).
CHAT_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("ja", "日本語"),
    ("en", "English"),
    ("zh", "中文"),
    ("ko", "한국어"),
    ("vi", "Tiếng Việt"),
    ("pt", "Português"),
    ("es", "Español"),
    ("tl", "Filipino"),
    ("ne", "नेपाली"),
)
LANGUAGE_NAMES = dict(CHAT_LANGUAGES)
# What the person's page is told of the chat, besides its messages.
STATUS_KEYS = (
    "state",
    "queue_position",
    "wait_minutes",
    "acute_risk",
    "consent_question",
    "consent",
    "closed_reason",
)
# The subject intake sees on everything the web chat does for an anonymous person.
GATEWAY_SUBJECT = "web-chat-gateway"


class ChatHub:
    """The web package's side of intake's web-chat API: a service credential and chat keys."""

    def __init__(self, backends: Backends, settings: Settings) -> None:
        self._backends = backends
        self._settings = settings
        secret = settings.auth_signing_key.get_secret_value().encode()
        self._key = hashlib.sha256(b"tsunagu-web-chat-key\0" + secret).digest()

    def chat_key(self, chat_id: str) -> str:
        return hmac.new(self._key, chat_id.encode(), hashlib.sha256).hexdigest()

    def key_matches(self, chat_id: str, key: str) -> bool:
        return hmac.compare_digest(self.chat_key(chat_id), key)

    def _token(self) -> str:
        # The web chat's own service credential: the `channel` role admits it to intake's web-chat
        # API and to nothing else.
        return mint_token(
            self._settings.auth_signing_key.get_secret_value(),
            role=Role.CHANNEL.value,
            subject=GATEWAY_SUBJECT,
            ttl_seconds=120,
        )

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self._backends.call("intake", method, path, token=self._token(), **kwargs)

    async def start(self, topic: str, language: str, client: str | None = None) -> dict[str, Any]:
        # The person's address, for intake's limit on new chats per address (429 past it).
        headers = {"Tsunagu-Client": client} if client else None
        started: dict[str, Any] = await self.call(
            "POST", "/v1/web-chats", json={"topic": topic, "language": language}, headers=headers
        )
        return started

    async def read(self, chat_id: str, after: int) -> dict[str, Any]:
        state: dict[str, Any] = await self.call("GET", f"/v1/web-chats/{chat_id}", params={"after": after})
        return state

    async def write(self, chat_id: str, text: str) -> None:
        await self.call("POST", f"/v1/web-chats/{chat_id}/messages", json={"text": text})

    async def leave(self, chat_id: str) -> None:
        await self.call("POST", f"/v1/web-chats/{chat_id}/leave", json={})

    async def consent(self, chat_id: str, request: str, decision: str) -> None:
        body = {"request": request, "decision": decision}
        await self.call("POST", f"/v1/web-chats/{chat_id}/consent", json=body)

    async def close(self) -> None:
        return None


def _same_origin(websocket: WebSocket) -> bool:
    """Cross-site WebSocket hijacking: a page elsewhere must not open a socket with our cookies."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if origin is None or host is None:
        return False
    return origin.split("://", 1)[-1].rstrip("/") == host


def _translator(websocket: WebSocket | Request) -> Translator:
    lang = pick_language(websocket.cookies.get(LANGUAGE_COOKIE))
    return Translator(lang, websocket.app.state.catalogue[lang])


# ---- the person's page ----------------------------------------------------------------------


CHAT_MESSAGES_DIR = Path(__file__).parent / "messages" / "chat"


@functools.cache
def chat_messages(code: str) -> dict[str, str]:
    """The chat page's own words in a language beyond Japanese and English (none for those two)."""
    path = CHAT_MESSAGES_DIR / f"{code}.json"
    if code not in LANGUAGE_NAMES or not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def chat_language(wanted: str | None, page_lang: str) -> str:
    """The chat's language: the one chosen on the first screen, else the page's."""
    return wanted if wanted in LANGUAGE_NAMES else page_lang


@router.get("/chat")
async def chat_page(
    ctx: Page, request: Request, lang: Annotated[str | None, Query(max_length=8)] = None
) -> Response:
    chosen = chat_language(lang, ctx.t.lang)
    base = "ja" if chosen == "ja" else "en"
    messages = {**request.app.state.catalogue[base], **chat_messages(chosen)}
    t = ctx.t if base == ctx.t.lang and chosen in ("ja", "en") else Translator(base, messages)
    return await ctx.render(
        "chat/person.html",
        t=t,
        lang="fil" if chosen == "tl" else chosen,
        chat_lang=chosen,
        languages=CHAT_LANGUAGES,
        topics=[t.value for t in Topic],
        js_messages=t.prefixed("chat.js."),
    )


async def _pump(websocket: WebSocket, read: Any, chat_id: str, interval_s: float) -> None:
    """Push what is new in intake to the socket until the chat closes or the socket goes."""
    after = 0
    last_status: tuple[Any, ...] = ()
    while True:
        try:
            with telemetry.quiet():
                state = await read(chat_id, after)
        except BackendError as error:
            await websocket.send_json({"type": "error", "code": error.code})
            if error.not_found:
                return
            await asyncio.sleep(interval_s * 3)
            continue
        for message in state.get("messages", []):
            after = max(after, int(message.get("seq", 0)))
            await websocket.send_json({"type": "message", **message})
        status = tuple(repr(state.get(key)) for key in STATUS_KEYS)
        if status != last_status:
            last_status = status
            shown = {key: state.get(key) for key in STATUS_KEYS}
            await websocket.send_json({"type": "state", **shown, "position": shown["queue_position"]})
        if state.get("state") == "closed":
            return
        await asyncio.sleep(interval_s)


@router.websocket("/chat/ws")
async def person_socket(websocket: WebSocket) -> None:
    if not _same_origin(websocket):
        await websocket.close(code=1008)
        return
    hub: ChatHub = websocket.app.state.chat_hub
    settings: Settings = websocket.app.state.settings
    await websocket.accept()
    pump: asyncio.Task[None] | None = None
    chat_id: str | None = None
    try:
        while True:
            data = await websocket.receive_json()
            kind = data.get("type") if isinstance(data, dict) else None
            if kind == "start" and chat_id is None:
                topic = str(data.get("topic", ""))
                if topic not in {t.value for t in Topic}:
                    await websocket.send_json({"type": "error", "code": "topic"})
                    continue
                language = chat_language(str(data.get("language", "")), "ja")
                client = websocket.client.host if websocket.client else None
                started = await hub.start(topic, language, client)
                chat_id = str(started["id"])
                await websocket.send_json(
                    {"type": "started", "chat_id": chat_id, "key": hub.chat_key(chat_id)}
                )
            elif kind == "resume" and chat_id is None:
                wanted, key = str(data.get("chat_id", "")), str(data.get("key", ""))
                if not hub.key_matches(wanted, key):
                    await websocket.send_json({"type": "error", "code": "unknown_chat"})
                    continue
                chat_id = wanted
                await websocket.send_json({"type": "resumed", "chat_id": chat_id})
            elif kind == "send" and chat_id is not None:
                text = str(data.get("text", "")).strip()[:MAX_MESSAGE]
                if text:
                    await hub.write(chat_id, text)
            elif kind == "leave" and chat_id is not None:
                await hub.leave(chat_id)
            elif kind == "consent" and chat_id is not None:
                decision = str(data.get("decision", ""))
                if decision in ("given", "refused"):
                    await hub.consent(chat_id, str(data.get("request", ""))[:40], decision)
            if chat_id is not None and pump is None:
                pump = asyncio.create_task(_pump(websocket, hub.read, chat_id, settings.live_poll_interval_s))
    except WebSocketDisconnect:
        pass
    except BackendError as error:
        log.warning("web chat: intake answered %s %s", error.status, error.code)
        with contextlib.suppress(Exception):
            await websocket.send_json({"type": "error", "code": error.code})
            await websocket.close()
    finally:
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump


# ---- the counsellor's room ------------------------------------------------------------------


@router.post("/console/chats/{chat_id}/take")
async def take_chat(ctx: CounsellorPage, _: Checked, chat_id: uuid.UUID) -> Response:
    if await refusal(ctx.call("intake", "POST", f"/v1/chats/{chat_id}/take"), 409):
        return RedirectResponse("/console?taken=1", status_code=303)  # another counsellor was quicker
    return RedirectResponse(f"/console/chats/{chat_id}", status_code=303)


@router.get("/console/chats/{chat_id}")
async def counsellor_room(
    ctx: CounsellorPage, chat_id: uuid.UUID, case: Annotated[uuid.UUID | None, Query()] = None
) -> Response:
    chat = await ctx.read(intake.CHAT, chat_id=chat_id)
    return await ctx.render(
        "chat/counsellor.html",
        chat=chat,
        case_id=case,
        language_name=LANGUAGE_NAMES.get(chat.language, chat.language),
        consent_items=CONSENT_ITEMS,
        js_messages=ctx.t.prefixed("chat.js."),
    )


# What the counsellor may ask the person to let a local organisation receive.
CONSENT_ITEMS = ("contact", "summary", "risk")


@router.post("/console/chats/{chat_id}/consent")
async def ask_consent(ctx: CounsellorPage, _: Checked, chat_id: uuid.UUID, request: Request) -> Response:
    """Ask the person, in the chat, whether the chosen items may go to a local organisation."""
    form = await request.form()
    items = [str(v) for v in form.getlist("items") if str(v) in CONSENT_ITEMS]
    if items:
        await ctx.call("intake", "POST", f"/v1/chats/{chat_id}/consent-request", json={"items": items})
    return RedirectResponse(f"/console/chats/{chat_id}?asked={int(bool(items))}", status_code=303)


@router.post("/console/chats/{chat_id}/end")
async def end_chat(
    ctx: CounsellorPage, _: Checked, chat_id: uuid.UUID, case: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """End the chat with the closing message its recorded outcome calls for (a separate step)."""
    await ctx.call("intake", "POST", f"/v1/chats/{chat_id}/end")
    try:
        suffix = f"?case={uuid.UUID(case)}" if case else ""
    except ValueError:
        suffix = ""
    return RedirectResponse(f"/console/chats/{chat_id}{suffix}", status_code=303)


def transcript_view(chat: Chat, after: int) -> dict[str, Any]:
    """intake's counsellor view of a chat as the socket's view: numbered messages after `after`."""
    messages = [
        {"seq": seq, "sender": m.sender, "text": m.text, "at": m.at}
        for seq, m in enumerate(chat.transcript, start=1)
        if seq > after
    ]
    return {
        "state": chat.state,
        "queue_position": None,
        "closed_reason": chat.closed_reason,
        "consent_question": chat.consent_requested.id if chat.consent_requested else None,
        "consent": chat.consent.decision if chat.consent else None,
        "acute_risk": chat.acute_risk_at is not None,
        "messages": messages,
    }


@router.websocket("/console/chats/{chat_id}/ws")
async def counsellor_socket(websocket: WebSocket, chat_id: uuid.UUID) -> None:
    if not _same_origin(websocket):
        await websocket.close(code=1008)
        return
    pool = websocket.app.state.pool
    settings: Settings = websocket.app.state.settings
    backends: Backends = websocket.app.state.backends
    cookie = websocket.cookies.get(SESSION_COOKIE)
    session = await service.find_session(pool, cookie_value=cookie) if cookie else None
    user = session.user if session else None
    if user is None or user.role is not Role.COUNSELLOR:
        await websocket.close(code=1008)
        return

    def token() -> str:
        assert user is not None
        return service.bearer_token(
            user, signing_key=settings.auth_signing_key.get_secret_value(), ttl_s=settings.token_ttl_s
        )

    async def read(chat: str, after: int) -> dict[str, Any]:
        found = await backends.answer(intake.CHAT, token=token(), path={"chat_id": chat})
        return transcript_view(found, after)

    await websocket.accept()
    pump = asyncio.create_task(_pump(websocket, read, str(chat_id), settings.live_poll_interval_s))
    try:
        while True:
            data = await websocket.receive_json()
            if isinstance(data, dict) and data.get("type") == "send":
                text = str(data.get("text", "")).strip()[:MAX_MESSAGE]
                if text:
                    await backends.call(
                        "intake", "POST", f"/v1/chats/{chat_id}/messages", token=token(), json={"text": text}
                    )
    except WebSocketDisconnect:
        pass
    except BackendError as error:
        log.warning("counsellor chat: intake answered %s %s", error.status, error.code)
        with contextlib.suppress(Exception):
            await websocket.send_json({"type": "error", "code": error.code})
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
