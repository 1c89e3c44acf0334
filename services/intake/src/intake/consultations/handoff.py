"""Whether a recorded case is handed off to a local support organisation, and if not, why.
Pure: no I/O."""

from dataclasses import dataclass
from enum import StrEnum

from contracts.vocabulary import LawfulBasis, Severity
from intake.consent.domain import ConsentDecision


class NoHandoff(StrEnum):
    """Why a recorded case opens no referral; the counsellor's console says it in plain words."""

    NOT_SERIOUS = "not_serious"  # S0/S1: listened to and informed, not handed on
    CONSENT_REFUSED = "consent_refused"  # the person said no, and no legal exception is recorded
    NO_LAWFUL_BASIS = "no_lawful_basis"  # neither consent nor an exception is recorded
    CONSENT_REQUIRED = "consent_required"  # S2 under a legal exception: S2 is shared only with consent


@dataclass(frozen=True)
class HandoffDecision:
    reason: NoHandoff | None = None  # None: a referral opens

    @property
    def opens(self) -> bool:
        return self.reason is None


def handoff_decision(
    severity: Severity, basis: LawfulBasis | None, consent: ConsentDecision | None
) -> HandoffDecision:
    """Whether the referral service opens a handoff for the case, and if not, why.

    The same rule as referral's `should_open_referral`, which sees only the level and the basis:
    S3/S4 with any basis, S2 only with consent. The person's consent decision never changes
    whether one opens (its effect is already in the basis); it only names the reason when none
    does, because a refusal is what the counsellor should be reminded of, not a missing field.
    """
    if severity in (Severity.S0, Severity.S1):
        return HandoffDecision(NoHandoff.NOT_SERIOUS)
    if basis is None:
        refused = consent is ConsentDecision.REFUSED
        return HandoffDecision(NoHandoff.CONSENT_REFUSED if refused else NoHandoff.NO_LAWFUL_BASIS)
    if severity is Severity.S2 and basis is not LawfulBasis.CONSENT:
        return HandoffDecision(NoHandoff.CONSENT_REQUIRED)
    return HandoffDecision()


def opens_handoff(severity: Severity, basis: LawfulBasis | None) -> bool:
    """Whether a handoff follows the case: intake uses it to know which cases need follow-up
    before they can be closed."""
    return handoff_decision(severity, basis, consent=None).opens


def closing_after_recording(severity: Severity, basis: LawfulBasis | None) -> str | None:
    """A case no handoff follows is closed once recorded; the others close with their handoff."""
    return None if opens_handoff(severity, basis) else "no_handoff"
