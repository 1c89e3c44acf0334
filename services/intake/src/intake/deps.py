"""intake's own route dependencies: the sealer, the clock's now, the LINE client, the providers'
settings. The pool and the roles are eventkit's (`eventkit.deps`)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends

from eventkit.clock import Clock
from eventkit.deps import app_state
from intake.chat.line import LineMessenger
from intake.sealing import Sealer


@dataclass(frozen=True)
class ChannelConfig:
    """What the provider webhooks need: their secrets, our public URL, the fallback number."""

    twilio_auth_token: str
    line_channel_secret: str
    public_base_url: str | None
    fallback_number: str


def _now(clock: Annotated[Clock, Depends(app_state("clock"))]) -> datetime:
    return clock()


Seal = Annotated[Sealer, Depends(app_state("sealer"))]
Now = Annotated[datetime, Depends(_now)]
Messenger = Annotated[LineMessenger, Depends(app_state("messenger"))]
Channels = Annotated[ChannelConfig, Depends(app_state("channels"))]
