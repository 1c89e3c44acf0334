"""TwiML answers for the phone channel (Twilio's XML dialect). Pure: text in, XML out.

Every prompt is read in Japanese (`<Say language="ja-JP">`). Action URLs are paths: the provider
resolves them against the URL it called, which is also the URL it signs.
"""

import xml.etree.ElementTree as ET

VOICE_LANGUAGE = "ja-JP"
MEDIA_TYPE = "application/xml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _say(parent: ET.Element, text: str) -> None:
    ET.SubElement(parent, "Say", language=VOICE_LANGUAGE).text = text


def _render(root: ET.Element) -> str:
    return _DECLARATION + ET.tostring(root, encoding="unicode")


def menu(prompt: str, *, action: str, on_silence: str, timeout_s: int = 8) -> str:
    """Read the menu and collect one digit; without a digit, go to `on_silence`."""
    root = ET.Element("Response")
    gather = ET.SubElement(
        root,
        "Gather",
        numDigits="1",
        action=action,
        method="POST",
        timeout=str(timeout_s),
        language=VOICE_LANGUAGE,
    )
    _say(gather, prompt)
    ET.SubElement(root, "Redirect", method="POST").text = on_silence
    return _render(root)


def connect(announcement: str, number: str, *, action: str, timeout_s: int = 30) -> str:
    """Tell the caller where they are going, then dial; the outcome is posted to `action`."""
    root = ET.Element("Response")
    _say(root, announcement)
    dial = ET.SubElement(root, "Dial", action=action, method="POST", timeout=str(timeout_s))
    ET.SubElement(dial, "Number").text = number
    return _render(root)


def say_and_hang_up(text: str) -> str:
    root = ET.Element("Response")
    _say(root, text)
    ET.SubElement(root, "Hangup")
    return _render(root)


def empty() -> str:
    return _render(ET.Element("Response"))
