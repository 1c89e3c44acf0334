"""notify's answers as web reads them: the partner's alerts, the operators' pages and rota."""

from web.api import Answer, Endpoint, Id, Instant


class Alert(Answer):
    """One attempt offered to the partner's organisation, and what became of it."""

    referral_id: Id
    attempt: int
    topic: str
    municipality_code: str
    municipality_name: str | None
    severity: str
    need_tags: list[str]
    age_band: str
    language: str
    offered_at: Instant
    deadline_at: Instant
    overdue: bool
    state: str
    accompanied_to: str | None
    outcome: str | None


class Page(Answer):
    id: Id
    kinds: list[str]
    referral_id: Id | None
    severity: str | None
    raised_at: Instant
    state: str
    rounds: int
    acknowledged_at: Instant | None
    acknowledged_by: str | None


class Shift(Answer):
    id: Id
    kind: str
    name: str
    email: str
    weekdays: list[int] | None
    starts: str | None
    ends: str | None
    starts_at: Instant | None
    ends_at: Instant | None
    on_call_now: bool


class Rota(Answer):
    shifts: list[Shift]


# What web reads of notify, each answer in its model above.
INBOX = Endpoint("notify", "/v1/portal/inbox", list[Alert])
PAGES = Endpoint("notify", "/v1/pages", list[Page])
ROTA = Endpoint("notify", "/v1/oncall", Rota)
