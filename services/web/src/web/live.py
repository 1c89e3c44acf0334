"""Server-sent events: each open stream asks the services every second or so, server-side.

Simple and adequate for a hotline's few dozen screens: no broker subscription per browser, and
what the stream shows is exactly what the user's own token may read. A change is sent as one
`update` event; a comment line every 15 s keeps proxies from closing an idle stream.
"""

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from eventkit import telemetry
from web.backends import BackendError

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0


def sse(event: str, data: Any) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, default=str)
    return f"event: {event}\ndata: {payload}\n\n".encode()


def stream(
    request: Request, poll: Callable[[], Awaitable[dict[str, Any]]], *, interval_s: float
) -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        last = ""
        idle = 0.0
        yield b"retry: 2000\n\n"
        while not await request.is_disconnected():
            try:
                with telemetry.quiet():
                    data = await poll()
            except BackendError as error:
                data = {"error": error.code, "status": error.status}
            except Exception as error:
                log.warning("live update failed: %s", type(error).__name__)
                data = {"error": "internal"}
            digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
            if digest != last:
                last = digest
                idle = 0.0
                yield sse("update", data)
            elif idle >= HEARTBEAT_S:
                idle = 0.0
                yield b": still here\n\n"
            await asyncio.sleep(interval_s)
            idle += interval_s

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
