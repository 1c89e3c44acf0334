"""The alert as a person reads it: the e-mail, with Japanese labels beside every code. Pure: no I/O.

Codes only, as in the webhook: what the case needs, the age band, the language, the area and the
deadline; never a name, a phone number, an address or the consultation's words.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from contracts.hours import JST
from contracts.labels import ISSUE_TAG_JA, TOPIC_JA
from eventkit.clock import system_clock
from notify.webhook import completed

# The #9999 menu's words (domain brief §1a).
TOPIC_LABELS_JA: Mapping[str, str] = TOPIC_JA
SEVERITY_LABELS_JA: Mapping[str, str] = {
    "S4": "緊急",
    "S3": "深刻",
    "S2": "つなぎ",
    "S1": "情報提供",
    "S0": "傾聴",
}
# contracts.vocabulary.IssueTag, in the counsellor's words (domain brief §1b).
NEED_LABELS_JA: Mapping[str, str] = ISSUE_TAG_JA
AGE_BAND_LABELS_JA: Mapping[str, str] = {
    "0-11": "11歳以下",
    "12-17": "12〜17歳",
    "18-29": "18〜29歳",
    "30-64": "30〜64歳",
    "65+": "65歳以上",
    "unknown": "不明",
}
# The languages #9999 and its partners meet most; any other ISO 639-1 code is shown as it is.
LANGUAGE_LABELS_JA: Mapping[str, str] = {
    "ja": "日本語",
    "en": "英語",
    "zh": "中国語",
    "ko": "韓国語",
    "vi": "ベトナム語",
    "tl": "タガログ語",
    "pt": "ポルトガル語",
    "es": "スペイン語",
    "ne": "ネパール語",
    "id": "インドネシア語",
    "th": "タイ語",
    "my": "ミャンマー語",
}


def labelled(code: str, labels: Mapping[str, str]) -> str:
    """'ひきこもり (HIK)'; a code without a label (a newer vocabulary) as it is."""
    label = labels.get(code)
    return f"{label} ({code})" if label else code


def needs_text(codes: Sequence[str]) -> str:
    return "、".join(labelled(code, NEED_LABELS_JA) for code in codes) or "記録なし / none recorded"


def place_text(code: str, name: str | None) -> str:
    """'東京都新宿区 (131041)', or the code alone when the register does not know it."""
    return f"{name} ({code})" if name else code


def email_message(
    payload: Mapping[str, Any], *, to: str, sender: str, acknowledge_url: str, message_id: str
) -> EmailMessage:
    """The alert as an e-mail: topic, area, severity, needs, age band, language, the deadline in
    Japan time and the link; nothing personal."""
    found = completed(payload)
    topic = str(found["topic"])
    severity = str(found["severity"])
    place = place_text(str(found["municipality_code"]), found.get("municipality_name"))
    deadline = datetime.fromisoformat(str(found["deadline_at"])).astimezone(JST).strftime("%Y-%m-%d %H:%M")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"[Tsunagu] 引き継ぎの依頼 {severity} {place} (期限 {deadline} JST)"
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(system_clock())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "\n".join(
            [
                "つなぐ (Tsunagu) から、貴団体への引き継ぎの依頼です。",
                "A handoff is offered to your organisation.",
                "",
                f"相談の種類 / Topic:          {labelled(topic, TOPIC_LABELS_JA)}",
                f"地域 / Municipality:         {place}",
                f"緊急度 / Severity:           {severity} {SEVERITY_LABELS_JA.get(severity, '')}",
                f"困りごと / Needs:            {needs_text([str(code) for code in found['need_tags']])}",
                f"年代 / Age band:             {labelled(str(found['age_band']), AGE_BAND_LABELS_JA)}",
                f"使用言語 / Language:         {labelled(str(found['language']), LANGUAGE_LABELS_JA)}",
                f"期限 / Deadline:             {deadline} JST",
                f"試行 / Attempt:              {found['attempt']}",
                "",
                "引き受ける場合は、次のリンクを開いてボタンを押してください:",
                "To acknowledge, open this link and press the button:",
                acknowledge_url,
                "",
                "期限までに応答がない場合、この依頼は次の団体へ移ります。",
                "If nobody acknowledges before the deadline, the case moves on to the next organisation.",
                "このメールに個人情報は含まれません。相談者の情報は、引き受け後に Tsunagu で確認できます。",
                "This e-mail holds no personal data; the person's details are shown in Tsunagu",
                "once you accept.",
            ]
        )
        + "\n"
    )
    return message
