"""The page behind an acknowledgement link, in Japanese and English: codes only, every value escaped.
Rendering alone: what the page offers is `LinkPage.action`'s to decide."""

import html
from typing import Any

from contracts.hours import JST
from referral.acknowledgement.domain import LinkAction, LinkPage

_STYLE = (
    "<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.6}"
    "button{font-size:1.2rem;padding:.6rem 1.4rem}dt{font-weight:bold}</style>"
)

_REFUSAL_TITLES = {
    "reassigned": "この依頼は他の団体へ移りました / Reassigned",
    "withdrawn": "この依頼は取り下げられました / Withdrawn",
    "link_expired": "リンクの有効期限切れ / Link expired",
}

_OFFERS = {
    LinkAction.ACKNOWLEDGED: "<p>この依頼は引き受け済みです。/ This handoff has been acknowledged.</p>",
    LinkAction.ACKNOWLEDGE: (
        "<p>この依頼を引き受ける場合はボタンを押してください。このページを開いただけでは引き受けになりません。"
        "<br>Press the button to acknowledge. Opening this page does not acknowledge.</p>"
        '<form method="post"><button type="submit">引き受ける / Acknowledge</button></form>'
    ),
    LinkAction.MOVED_ON: (
        "<p>この依頼は他の団体へ移ったか、取り下げられました。/ This handoff has moved on.</p>"
    ),
}


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — Tsunagu</title>"
        f"{_STYLE}</head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _handoff_details(page: LinkPage) -> str:
    referral, attempt = page.referral, page.attempt
    deadline = attempt.deadline_at.astimezone(JST).strftime("%Y-%m-%d %H:%M")
    rows = (
        ("緊急度 / Severity", referral.severity.value),
        ("地域 / Municipality", referral.municipality_code),
        ("相談の種類 / Topic", referral.topic.value),
        ("試行 / Attempt", str(attempt.number)),
        ("期限 / Deadline", f"{deadline} JST"),
    )
    cells = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    return f"<dl>{cells}</dl>"


def handoff(page: LinkPage) -> str:
    """What GET shows: the handoff, and the button while the link may still acknowledge."""
    return _document("引き継ぎの確認 / Handoff", _handoff_details(page) + _OFFERS[page.action])


def acknowledged() -> str:
    """What POST shows once the link has acknowledged."""
    return _document(
        "引き受けました / Acknowledged",
        "<p>ありがとうございます。相談者の連絡先と概要は Tsunagu で確認できます。"
        "<br>Thank you. The person's contact details and summary are now available to you in Tsunagu.</p>",
    )


def refusal(code: str, message: str) -> str:
    """Why the link cannot do what was asked: reassigned, withdrawn, expired, or unknown."""
    title = _REFUSAL_TITLES.get(code, "確認できません / Cannot confirm")
    return _document(title, f"<p>{html.escape(message)}</p>")


def as_json(page: LinkPage) -> dict[str, Any]:
    """The same page for `Accept: application/json`."""
    referral, attempt = page.referral, page.attempt
    return {
        "referral_id": str(referral.id),
        "attempt": attempt.number,
        "state": attempt.state.value,
        "used": page.used,
        "severity": referral.severity.value,
        "municipality_code": referral.municipality_code,
        "topic": referral.topic.value,
        "deadline_at": attempt.deadline_at.isoformat(),
    }
