"""directory's event edge: referral requests in, matches out; handoff facts adjust the register.

Each handler translates its event into domain arguments (a `Referral` with its needs; an offer,
an answer and a time) and calls its sub-domain's service; the consumer tags the span with the
event's ids. The matching handler needs the context (geography, policy, clock) that main.py
builds from the settings, so the table is made by `build_handlers(context)`; `HANDLERS` is the
same table with the defaults, for the wiring check and tools that only need its shape.
"""

from contracts import events
from directory.context import Context
from directory.handoffs import handlers as handoffs
from directory.matching import handlers as matching
from eventkit.consumer import Handler


def build_handlers(context: Context) -> dict[type[events.Event], Handler]:
    return {
        events.ReferralRequested: matching.on_referral_requested(context),
        events.ReofferRequested: matching.on_reoffer_requested(context),
        events.HandoffOffered: handoffs.on_handoff_offered,
        events.HandoffAcknowledged: handoffs.on_handoff_acknowledged,
        events.HandoffDeclined: handoffs.on_handoff_declined,
        events.HandoffExpired: handoffs.on_handoff_expired,
        events.HandoffOutcomeRecorded: handoffs.on_outcome_recorded,
        events.ReferralWithdrawn: handoffs.on_referral_withdrawn,
    }


HANDLERS: dict[type[events.Event], Handler] = build_handlers(Context())
