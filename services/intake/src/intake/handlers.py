"""intake's event edge: intake starts the flow and consumes no events."""

from contracts.events import Event
from eventkit.consumer import Handler

HANDLERS: dict[type[Event], Handler] = {}
