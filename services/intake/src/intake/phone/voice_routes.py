"""phone's HTTP edge for the provider: Twilio-style voice webhooks, authenticated by their request
signature (no bearer token: the provider holds the shared secret instead), answered in TwiML.

The caller's number is personal data: it is stored encrypted and never logged; an error here names
the problem, never the input.
"""

import re
import urllib.parse

from fastapi import Request, Response

from eventkit.deps import Pool
from eventkit.errors import ERROR_RESPONSES, ApiError
from eventkit.routing import api_router
from intake.deps import ChannelConfig, Channels, ChannelWebhookLimit, Now, Seal
from intake.phone import twiml, voice_service
from intake.phone.domain import CallEvent
from intake.signatures import twilio_signature_valid

# Every route here is the provider's webhook and answers TwiML.
router = api_router(
    "/v1/channels", dependencies=[ChannelWebhookLimit], tags=["phone"], default_response_class=Response
)

MAX_FORM_BYTES = 64 * 1024
_CALL_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
_DIGITS = re.compile(r"^[0-9*#]{1,4}$")
_FORM = "application/x-www-form-urlencoded"


def _signed_url(request: Request, channels: ChannelConfig) -> str:
    """The URL as the provider called it: behind a proxy, the configured public base URL."""
    if channels.public_base_url is None:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{channels.public_base_url}{request.url.path}{query}"


async def _verified_form(request: Request, channels: ChannelConfig) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        raise ApiError(415, "unsupported_media_type", f"Send {_FORM}, as the voice provider does.")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ApiError(413, "payload_too_large", "The form is too large.")
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise ApiError(400, "bad_request", "The form is not UTF-8.") from None
    offered = request.headers.get("x-twilio-signature")
    if not twilio_signature_valid(channels.twilio_auth_token, _signed_url(request, channels), pairs, offered):
        raise ApiError(403, "invalid_signature", "X-Twilio-Signature is missing or does not match.")
    form = dict(pairs)
    if not _CALL_SID.match(form.get("CallSid", "")):
        raise ApiError(400, "bad_request", "CallSid is missing or malformed.")
    return form


def _xml(body: str) -> Response:
    return Response(content=body, media_type=twiml.MEDIA_TYPE)


_XML_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {twiml.MEDIA_TYPE: {}}, "description": "TwiML"},
    403: ERROR_RESPONSES[403],
}


@router.post("/phone/voice", responses=_XML_RESPONSES)
async def voice(request: Request, pool: Pool, sealer: Seal, channels: Channels, now: Now) -> Response:
    """Voice webhook: an incoming call, a chosen digit, or silence (?silence=1)

    Twilio-style form body (CallSid, From, To, Digits, …) signed with `X-Twilio-Signature`. Answers TwiML:
    first a `<Gather numDigits="1">` reading the active menu in Japanese, then a `<Dial>` to the chosen desk
    if it is open, else to the fallback number.
    """
    form = await _verified_form(request, channels)
    digits = form.get("Digits") or None
    call = CallEvent(
        call_sid=form["CallSid"],
        caller=form.get("From") or None,
        called=form.get("To") or None,
        # Anything else than keypad input is as good as a wrong digit.
        digits=digits if digits is None or _DIGITS.match(digits) else "?",
        silence=request.query_params.get("silence") == "1",
    )
    answer = await voice_service.answer_call(
        pool, sealer, call=call, now=now, fallback_number=channels.fallback_number
    )
    return _xml(answer)


@router.post(
    "/phone/voice/dial-status",
    responses=_XML_RESPONSES,
    summary="The outcome of a <Dial> (DialCallStatus): a busy or unanswered desk falls back",
)
async def dial_status(request: Request, pool: Pool, channels: Channels, now: Now) -> Response:
    form = await _verified_form(request, channels)
    duration = form.get("DialCallDuration", "")
    answer = await voice_service.dial_finished(
        pool,
        call_sid=form["CallSid"],
        dial_status=(form.get("DialCallStatus") or "")[:20] or None,
        duration_s=int(duration) if duration.isdigit() else None,
        to_fallback=request.query_params.get("to") == "fallback",
        now=now,
        fallback_number=channels.fallback_number,
    )
    return _xml(answer)


@router.post(
    "/phone/status",
    responses=_XML_RESPONSES,
    summary="The call's status callback (CallStatus): a finished call ends its leg",
)
async def call_status(request: Request, pool: Pool, channels: Channels, now: Now) -> Response:
    form = await _verified_form(request, channels)
    await voice_service.call_status(pool, call_sid=form["CallSid"], status=form.get("CallStatus"), now=now)
    return _xml(twiml.empty())
