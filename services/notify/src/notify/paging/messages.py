"""What a page sends: one e-mail per operator on call and one PagerDuty Events API v2 event per
round, and the acknowledge/resolve event after it. Pure: ids, codes and the dashboard's address —
never a name, a phone number or anything the person said. The routing key is added by the sender,
so it is never stored with a message."""

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage

from contracts.hours import JST
from notify.paging.domain import NewMessage, Page, PagerAction
from notify.paging.rota import Shift

PAGER_SOURCE = "tsunagu-notify"
# PagerDuty's severities: an S4 wakes people, an S3 is urgent, anything else is a warning.
_PAGER_SEVERITY = {"S4": "critical", "S3": "error"}
_SUMMARY = {
    "no_match": "no organisation can take the referral",
    "referral_exhausted": "every organisation let the referral go",
    "s4_unacknowledged": "no organisation has accepted the S4 referral in time",
    "dead_letters": "records a service could not apply are waiting in a dead-letter topic",
}


def summary(page: Page) -> str:
    what = _SUMMARY.get(page.kind, page.kind)
    return f"Tsunagu {page.severity or ''} page: {what}".replace("  ", " ")


def pager_event(page: Page, action: PagerAction, *, dashboard_url: str) -> dict[str, object]:
    """The Events API v2 body without its `routing_key`; a trigger carries the payload."""
    body: dict[str, object] = {"event_action": action.value, "dedup_key": page.dedup_key}
    if action is PagerAction.TRIGGER:
        body["payload"] = {
            "summary": summary(page),
            "source": PAGER_SOURCE,
            "severity": _PAGER_SEVERITY.get(page.severity or "", "warning"),
            "timestamp": page.raised_at.isoformat(),
            "custom_details": {
                "page_id": str(page.id),
                "referral_id": str(page.referral_id) if page.referral_id else None,
                "case_id": str(page.case_id) if page.case_id else None,
                "kinds": list(page.kinds),
                "severity": page.severity,
                "detail": list(page.detail),
                "round": page.rounds + 1,
            },
        }
        body["links"] = [{"href": dashboard_url, "text": "Acknowledge in the Tsunagu dashboard"}]
    return body


def round_messages(
    page: Page, *, on_call: Sequence[Shift], pager: bool, dashboard_url: str
) -> list[NewMessage]:
    """One round of a triggered page: an e-mail to each person on call, a trigger to the pager."""
    round_no = page.rounds + 1
    messages = [
        NewMessage(
            page_id=page.id,
            round=round_no,
            action=PagerAction.TRIGGER,
            channel="email",
            payload={"summary": summary(page), "round": round_no},
            recipient_name=shift.name,
            recipient=shift.email,
        )
        for shift in {shift.email: shift for shift in on_call}.values()
    ]
    if pager:
        messages.append(_to_pager(page, PagerAction.TRIGGER, round_no=round_no, dashboard_url=dashboard_url))
    return messages


def closing_message(page: Page, action: PagerAction, *, dashboard_url: str) -> NewMessage:
    """Tell the pager the incident is acknowledged (or resolved): it stops notifying too."""
    return _to_pager(page, action, round_no=page.rounds, dashboard_url=dashboard_url)


def _to_pager(page: Page, action: PagerAction, *, round_no: int, dashboard_url: str) -> NewMessage:
    return NewMessage(
        page_id=page.id,
        round=round_no,
        action=action,
        channel="webhook",
        payload=pager_event(page, action, dashboard_url=dashboard_url),
    )


def page_email(
    page: Page, *, sender: str, recipient: str, round_no: int, dashboard_url: str, now: datetime
) -> EmailMessage:
    """The page as an e-mail, in Japanese and English; codes and the dashboard's address only."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = f"[Tsunagu 呼び出し/page] {page.severity or '-'} {page.kind} #{round_no}"
    raised = page.raised_at.astimezone(JST).strftime("%Y-%m-%d %H:%M")
    sent = now.astimezone(JST).strftime("%Y-%m-%d %H:%M")
    message.set_content(
        "\n".join(
            (
                "当番のオペレーターへ: 対応が必要な紹介があります。ダッシュボードで「対応します」を押すまで、"
                "呼び出しを繰り返します。",
                "On-call operator: a referral needs a person. This page repeats until someone "
                "acknowledges it in the dashboard.",
                "",
                f"種類 / kind: {', '.join(page.kinds)}",
                f"緊急度 / severity: {page.severity or '-'}",
                f"紹介 / referral: {page.referral_id or '-'}",
                f"理由 / detail: {', '.join(page.detail) or '-'}",
                f"発生 / raised: {raised} JST (日本時間)",
                f"送信 / sent: {sent} JST (日本時間), 第{round_no}回 / round {round_no}",
                "",
                f"対応する / acknowledge: {dashboard_url}",
            )
        )
    )
    return message
