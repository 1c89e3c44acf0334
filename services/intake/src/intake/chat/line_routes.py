"""chat's HTTP edge for LINE: the Messaging API's webhook, authenticated by its request signature
(no bearer token: LINE holds the shared channel secret instead).

The LINE user id is personal data: it is stored encrypted and never logged; an error here names the
problem, never the input.
"""

from fastapi import BackgroundTasks, Request
from pydantic import ValidationError

from eventkit.deps import Pool
from eventkit.errors import ApiError
from eventkit.routing import api_router
from intake.chat import line_service
from intake.chat.line import LineWebhook, to_inbound
from intake.chat.outgoing import deliver
from intake.deps import Channels, ChannelWebhookLimit, Messenger, Now, Seal
from intake.signatures import line_signature_valid

router = api_router("/v1/channels", dependencies=[ChannelWebhookLimit])

MAX_LINE_BYTES = 1024 * 1024


@router.post("/line/webhook", tags=["chat"])
async def line_webhook(
    request: Request,
    background: BackgroundTasks,
    pool: Pool,
    sealer: Seal,
    channels: Channels,
    messenger: Messenger,
    now: Now,
) -> dict[str, int]:
    """LINE Messaging API webhook (X-Line-Signature)

    Message, postback, follow and unfollow events from one-to-one chats. A replayed or redelivered event
    (same webhookEventId) changes nothing. Replies go to LINE's reply API after the events are stored.
    """
    body = await request.body()
    if len(body) > MAX_LINE_BYTES:
        raise ApiError(413, "payload_too_large", "The webhook body is too large.")
    secret = channels.line_channel_secret
    if not line_signature_valid(secret, body, request.headers.get("x-line-signature")):
        raise ApiError(403, "invalid_signature", "X-Line-Signature is missing or does not match.")
    try:
        webhook = LineWebhook.model_validate_json(body)
    except ValidationError:
        raise ApiError(400, "bad_request", "The body is not a LINE webhook.") from None
    events = [e for e in (to_inbound(raw) for raw in webhook.events) if e is not None]
    # The channel secret keys the users' pseudonyms: lookups work without the id in clear.
    outgoing = await line_service.receive(pool, sealer, events=events, pseudonym_key=secret, now=now)
    if outgoing:
        # LINE wants a quick 200; replies go out after the response, their rows already committed.
        background.add_task(deliver, pool, messenger, outgoing)
    return {"events": len(events)}
