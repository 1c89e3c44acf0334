import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from contracts.events import HandoffOffered, OfferedOrganisation
from contracts.vocabulary import AgeBand, IssueTag, Severity, Topic
from notify.alerts.domain import alert_for_offer
from notify.alerts.handlers import offer_of
from notify.sender.alert_text import AGE_BAND_LABELS_JA, NEED_LABELS_JA, email_message

ORGANISATION_NAME = "【サンプル】新宿区社会福祉協議会"
OFFERED_AT = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)


def an_offer(
    *,
    need_tags: tuple[IssueTag, ...] = (IssueTag.DV, IssueTag.HIK),
    age_band: AgeBand = AgeBand.TEEN,
    language: str = "vi",
    municipality_code: str = "131041",
) -> HandoffOffered:
    return HandoffOffered(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        attempt=2,
        organisation=OfferedOrganisation(
            organisation_id=uuid.uuid4(),
            name=ORGANISATION_NAME,
            email="alerts@partner.example",
            channels=("email",),
        ),
        topic=Topic.LONELY,
        municipality_code=municipality_code,
        severity=Severity.S3,
        deadline_at=OFFERED_AT + timedelta(minutes=30),
        offered_at=OFFERED_AT,
        need_tags=need_tags,
        age_band=age_band,
        language=language,
    )


def payload_of(event: HandoffOffered) -> dict[str, Any]:
    [delivery] = alert_for_offer(offer_of(event), trace_headers={}).deliveries
    return delivery.payload


def email_of(payload: dict[str, Any]) -> EmailMessage:
    return email_message(
        payload,
        to="alerts@partner.example",
        sender="Tsunagu <noreply@tsunagu.invalid>",
        acknowledge_url="https://r.example/v1/acknowledgements/tok",
        message_id="<k@tsunagu.invalid>",
    )


def test_the_email_says_topic_area_severity_deadline_and_link_and_nothing_personal() -> None:
    message = email_of(payload_of(an_offer()))

    text = message.get_content()
    assert "孤独・孤立に悩んでいる方 (LONELY)" in text and "S3 深刻" in text
    assert "2025-06-01 19:00 JST" in text  # the deadline in Japan time, labelled
    assert "https://r.example/v1/acknowledgements/tok" in text
    assert (
        message["Subject"] == "[Tsunagu] 引き継ぎの依頼 S3 東京都新宿区 (131041) (期限 2025-06-01 19:00 JST)"
    )
    assert message["To"] == "alerts@partner.example"
    assert ORGANISATION_NAME not in message.as_string()


def test_the_email_names_the_municipality_beside_its_code() -> None:
    text = email_of(payload_of(an_offer())).get_content()

    assert "地域 / Municipality:         東京都新宿区 (131041)" in text


def test_the_email_shows_each_need_with_its_label_and_the_age_band_and_language() -> None:
    text = email_of(payload_of(an_offer())).get_content()

    assert "DV・性暴力・虐待 (DV)、ひきこもり (HIK)" in text
    assert "12〜17歳 (12-17)" in text
    assert "ベトナム語 (vi)" in text


def test_an_offer_with_no_needs_and_an_unlabelled_language_shows_the_codes_as_they_are() -> None:
    text = email_of(payload_of(an_offer(need_tags=(), age_band=AgeBand.UNKNOWN, language="sw"))).get_content()

    assert "困りごと / Needs:            記録なし / none recorded" in text
    assert "不明 (unknown)" in text
    assert "使用言語 / Language:         sw\n" in text


def test_a_municipality_the_register_does_not_know_is_shown_by_its_code_alone() -> None:
    message = email_of(payload_of(an_offer(municipality_code="139998")))

    assert "地域 / Municipality:         139998\n" in message.get_content()
    assert message["Subject"].startswith("[Tsunagu] 引き継ぎの依頼 S3 139998 (期限")


def test_an_email_of_a_payload_stored_before_the_needs_travelled_still_renders() -> None:
    payload = payload_of(an_offer())
    for name in ("need_tags", "age_band", "language", "municipality_name", "deadline_at_jst"):
        del payload[name]

    text = email_of(payload).get_content()

    assert "記録なし / none recorded" in text and "日本語 (ja)" in text and "東京都新宿区 (131041)" in text


def test_every_need_code_and_age_band_has_a_japanese_label() -> None:
    assert set(NEED_LABELS_JA) == {tag.value for tag in IssueTag}
    assert set(AGE_BAND_LABELS_JA) == {band.value for band in AgeBand}
