"""What the lifecycle refuses, as eventkit's domain errors: each a kind (conflict, not found,
invalid) with a code of its own. eventkit.http answers them with the kind's status."""

from eventkit.errors import Conflict, DomainError, Invalid, NotFound
from referral.lifecycle.states import Action, ReferralState


class LifecycleError(DomainError):
    """A command the lifecycle refuses; the kind it is mixed with gives its code."""


class IllegalTransition(LifecycleError, Conflict):
    """No cell of TRANSITIONS allows it. `reason` is the dead letter's code for an event."""

    code = "illegal_transition"

    def __init__(self, current: ReferralState, action: Action, why: str = "") -> None:
        self.current = current
        self.action = action
        self.reason = f"illegal_transition:{current.value}->{action.value}" + (f":{why}" if why else "")
        super().__init__(f"A referral that is {current.value} cannot become {action.value}.")


class Reassigned(LifecycleError, Conflict):
    code = "reassigned"

    def __init__(self) -> None:
        super().__init__(
            "This handoff was reassigned: it was declined, expired or undeliverable and has moved on "
            "to another organisation (or to the operators). Nothing was recorded for you."
        )


class Withdrawn(LifecycleError, Conflict):
    code = "withdrawn"

    def __init__(self) -> None:
        super().__init__("The counsellor withdrew this referral; there is nothing to acknowledge.")


class NotOffered(LifecycleError, NotFound):
    """No such attempt for this organisation: indistinguishable from a missing referral."""

    def __init__(self) -> None:
        super().__init__("No referral with that id is visible to you.")


class InvalidOutcome(LifecycleError, Invalid):
    """An outcome whose fields do not fit its stage."""


class AlreadyOffered(LifecycleError, Conflict):
    """The operator chose an organisation this referral was offered to before."""

    code = "already_offered"

    def __init__(self) -> None:
        super().__init__(
            "This organisation was offered the case before and did not take it. Call them, or choose "
            "another organisation."
        )
