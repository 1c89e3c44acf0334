"""The acknowledgement link in each alert: a signed, expiring token on referral's public URL.

One token per attempt: its id is derived from the alert's key and its claims from the alert, and
Ed25519 signatures are deterministic, so the webhook, the e-mail and every retry carry the same
link, and referral's record of a used token id makes all of them act once.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from eventkit.links import mint_link_token

# Any fixed namespace: token ids only need to be distinct per alert key.
_TOKEN_NAMESPACE = uuid.UUID("5d1e7c0a-2b7f-4c55-9d8e-3a6f0e9b1c42")


class AckLinks:
    def __init__(
        self, *, signing_key: str, referral_public_url: str, valid_after_deadline: timedelta
    ) -> None:
        self._signing_key = signing_key
        self._base = referral_public_url.rstrip("/")
        self._valid_after_deadline = valid_after_deadline

    def url_for(self, payload: Mapping[str, Any]) -> str:
        """The link for the alert whose stored payload this is."""
        deadline = datetime.fromisoformat(str(payload["deadline_at"]))
        token = mint_link_token(
            self._signing_key,
            token_id=uuid.uuid5(_TOKEN_NAMESPACE, str(payload["delivery_id"])),
            referral_id=uuid.UUID(str(payload["referral_id"])),
            organisation_id=uuid.UUID(str(payload["organisation_id"])),
            attempt=int(payload["attempt"]),
            issued_at=datetime.fromisoformat(str(payload["offered_at"])),
            # Valid past the deadline on purpose: a late partner then hears "reassigned", clearly,
            # rather than "this link is broken".
            expires_at=deadline + self._valid_after_deadline,
        )
        return f"{self._base}/v1/acknowledgements/{token}"

    def referral_api(self, referral_id: uuid.UUID, attempt: int) -> dict[str, str]:
        """Where a partner acknowledges or declines with its own token (the portal's actions)."""
        base = f"{self._base}/v1/referrals/{referral_id}/attempts/{attempt}"
        return {"acknowledge": f"{base}/acknowledge", "decline": f"{base}/decline"}
