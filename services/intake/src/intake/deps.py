"""intake's own route dependencies: the sealer, the clock's now, the LINE client, the providers'
settings. The pool and the roles are eventkit's (`eventkit.deps`)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final

from fastapi import Depends

from eventkit.clock import Clock
from eventkit.deps import app_state
from eventkit.ratelimit import Limit, rate_limited
from intake.chat.line import LineMessenger
from intake.sealing import Sealer


@dataclass(frozen=True)
class ChannelConfig:
    """What the provider webhooks need: their secrets, our public URL, the fallback number."""

    twilio_auth_token: str
    line_channel_secret: str
    public_base_url: str | None
    fallback_number: str


async def _now(clock: Annotated[Clock, Depends(app_state("clock"))]) -> datetime:
    return clock()


Seal = Annotated[Sealer, Depends(app_state("sealer"))]
Now = Annotated[datetime, Depends(_now)]
Messenger = Annotated[LineMessenger, Depends(app_state("messenger"))]
Channels = Annotated[ChannelConfig, Depends(app_state("channels"))]
# The providers' webhooks, per sending address (LINE's and Twilio's few addresses carry every
# person's messages and calls: generous, yet a flood from elsewhere meets 429 before any work).
ChannelWebhookLimit = rate_limited("channel-webhook", Limit(burst=200, per_s=50))
# The local stack's browser and e2e tests open many chats from one address: in development mode
# the buckets are wide (the limits' own test sets the real ones back).
DEVELOPMENT_RATE_LIMITS: Final = {
    name: Limit(burst=10_000, per_s=1_000)
    for name in ("web-chat-start", "web-chat-message", "channel-webhook")
}
