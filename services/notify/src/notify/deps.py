"""notify's own route dependencies: the keyring, the acknowledgement links and the settings main.py
puts on the app. The pool and the roles are eventkit.deps'."""

from typing import Annotated

from fastapi import Depends, Request

from eventkit.crypto import Keyring
from eventkit.deps import app_state
from notify.config import Settings
from notify.links import AckLinks


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


Keys = Annotated[Keyring, Depends(app_state("keyring"))]
Links = Annotated[AckLinks, Depends(app_state("links"))]
NotifySettings = Annotated[Settings, Depends(_settings)]
