"""On-call paging's pure rules: which alerts page, one page per referral, re-paging, acknowledging,
the rota in Japan time, and what a page sends (PagerDuty Events API v2 shape, no personal data)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.vocabulary import AlertKind, Severity
from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from eventkit.errors import Invalid
from notify.config import Settings
from notify.paging import messages, rota
from notify.paging.domain import (
    Alarm,
    PageKind,
    PagerAction,
    PageResolved,
    PageState,
    PagingPolicy,
    acknowledge,
    gives_up,
    is_due,
    is_s4_unacknowledged,
    is_stale,
    join,
    open_page,
    page_kind,
    paged,
    resolve,
    s4_alert_id,
)

NOW = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)  # 23:00 JST, a Friday
POLICY = PagingPolicy(repeat=timedelta(minutes=5), max_alert_age=timedelta(hours=6))


def an_alarm(referral_id: uuid.UUID | None = None, kind: PageKind = PageKind.NO_MATCH) -> Alarm:
    return Alarm(
        alert_id=uuid.uuid4(),
        kind=kind,
        source="directory",
        raised_at=NOW,
        referral_id=referral_id or uuid.uuid4(),
        case_id=uuid.uuid4(),
        severity=Severity.S4,
        detail=("no_candidates",),
    )


@pytest.mark.parametrize(
    ("kind", "severity", "expected"),
    [
        (AlertKind.NO_MATCH, Severity.S4, PageKind.NO_MATCH),
        (AlertKind.NO_MATCH, Severity.S3, PageKind.NO_MATCH),
        (AlertKind.NO_MATCH, Severity.S2, None),
        (AlertKind.REFERRAL_EXHAUSTED, Severity.S3, PageKind.REFERRAL_EXHAUSTED),
        (AlertKind.REFERRAL_EXHAUSTED, None, None),
        (AlertKind.NO_LOCAL_MATCH, Severity.S4, None),
        (AlertKind.DELIVERY_FAILED, Severity.S4, None),
        (AlertKind.S4_UNACKNOWLEDGED, Severity.S4, PageKind.S4_UNACKNOWLEDGED),
        (AlertKind.DEAD_LETTERED, None, PageKind.DEAD_LETTERS),
    ],
)
def test_only_alerts_that_need_a_person_now_page(
    kind: AlertKind, severity: Severity | None, expected: PageKind | None
) -> None:
    assert page_kind(kind, severity) == expected


def test_alerts_about_one_referral_share_one_dedup_key() -> None:
    referral_id = uuid.uuid4()
    first, second = an_alarm(referral_id), an_alarm(referral_id, PageKind.S4_UNACKNOWLEDGED)
    assert first.dedup_key == second.dedup_key == f"tsunagu:referral:{referral_id}"
    assert an_alarm().dedup_key != first.dedup_key


def test_dead_letters_on_one_topic_share_one_page_and_another_topic_pages_on_its_own() -> None:
    def dead_letter(topic: str) -> Alarm:
        return Alarm(
            alert_id=uuid.uuid4(),
            kind=PageKind.DEAD_LETTERS,
            source="referral",
            raised_at=NOW,
            case_id=uuid.uuid4(),
            detail=(f"topic:{topic}",),
        )

    first, second = dead_letter("directory.matches.v1.dlt"), dead_letter("directory.matches.v1.dlt")
    assert first.dedup_key == second.dedup_key == "tsunagu:dead-letters:directory.matches.v1.dlt"
    assert dead_letter("notify.deliveries.v1.dlt").dedup_key != first.dedup_key


def test_a_new_page_is_due_at_once_and_pages_again_after_the_repeat_interval() -> None:
    page = open_page(an_alarm(), now=NOW)
    assert page.state is PageState.TRIGGERED and is_due(page, now=NOW)
    once = paged(page, now=NOW, policy=POLICY)
    assert once.rounds == 1 and not is_due(once, now=NOW + timedelta(minutes=4))
    assert is_due(once, now=NOW + timedelta(minutes=5))


def test_a_second_alert_joins_the_open_page_without_paging_anew() -> None:
    referral_id = uuid.uuid4()
    page = paged(open_page(an_alarm(referral_id), now=NOW), now=NOW, policy=POLICY)
    joined = join(page, an_alarm(referral_id, PageKind.S4_UNACKNOWLEDGED))
    assert joined.occurrences == 2 and joined.kinds == ("no_match", "s4_unacknowledged")
    assert joined.next_page_at == page.next_page_at and joined.rounds == 1


def test_acknowledging_stops_paging_once_and_again_changes_nothing() -> None:
    page = paged(open_page(an_alarm(), now=NOW), now=NOW, policy=POLICY)
    change = acknowledge(page, by="operator1", at=NOW)
    assert change.action is PagerAction.ACKNOWLEDGE
    assert change.page.acknowledged_by == "operator1" and not is_due(
        change.page, now=NOW + timedelta(hours=1)
    )
    assert acknowledge(change.page, by="operator2", at=NOW).repeated


def test_a_resolved_page_cannot_be_acknowledged() -> None:
    done = resolve(open_page(an_alarm(), now=NOW), by="referral", at=NOW).page
    with pytest.raises(PageResolved):
        acknowledge(done, by="operator1", at=NOW)


def test_an_old_alert_read_from_the_topics_history_is_stale() -> None:
    assert is_stale(an_alarm(), now=NOW + timedelta(hours=7), policy=POLICY)
    assert not is_stale(an_alarm(), now=NOW + timedelta(minutes=1), policy=POLICY)


def test_an_s4_is_unacknowledged_once_the_limit_has_passed_and_its_alert_id_is_stable() -> None:
    assert is_s4_unacknowledged(
        first_offered_at=NOW, now=NOW + timedelta(minutes=15), limit=timedelta(minutes=15)
    )
    assert not is_s4_unacknowledged(
        first_offered_at=NOW, now=NOW + timedelta(minutes=14), limit=timedelta(minutes=15)
    )
    referral_id = uuid.uuid4()
    assert s4_alert_id(referral_id) == s4_alert_id(referral_id) != s4_alert_id(uuid.uuid4())


def test_a_refusing_pager_or_mailbox_is_not_retried_but_a_busy_one_is() -> None:
    assert gives_up("http_400", tries=1, max_tries=10)
    assert gives_up("smtp_550", tries=1, max_tries=10)
    assert not gives_up("http_429", tries=1, max_tries=10)
    assert not gives_up("http_503", tries=9, max_tries=10)
    assert gives_up("http_503", tries=10, max_tries=10)


# ---- the rota ---------------------------------------------------------------------------------


def a_shift(when: rota.Weekly | rota.Cover, name: str = "当番A") -> rota.Shift:
    return rota.Shift(uuid.uuid4(), name, "a@ops.example", when, NOW, "operator1")


def test_an_overnight_weekly_shift_covers_the_night_into_the_next_morning_in_japan_time() -> None:
    friday_night = a_shift(rota.Weekly(frozenset({5}), 22 * 60, 7 * 60))
    assert rota.on_call([friday_night], NOW) == (friday_night,)  # Friday 23:00 JST
    assert rota.on_call([friday_night], NOW + timedelta(hours=7)) == (friday_night,)  # Saturday 06:00
    assert rota.on_call([friday_night], NOW + timedelta(hours=8)) == ()  # Saturday 07:00


def test_a_cover_shift_replaces_the_weekly_pattern_while_it_lasts() -> None:
    weekly = a_shift(rota.Weekly(frozenset(range(1, 8)), 0, 24 * 60))
    cover = a_shift(rota.Cover(NOW - timedelta(hours=1), NOW + timedelta(hours=1)), "代理B")
    assert rota.on_call([weekly, cover], NOW) == (cover,)
    assert rota.on_call([weekly, cover], NOW + timedelta(hours=2)) == (weekly,)


def test_a_weekly_shift_with_wrong_fields_names_each_of_them() -> None:
    with pytest.raises(Invalid) as refused:
        rota.weekly_shift(name="", email="not-an-address", weekdays=[8], starts="25:00", ends="07:00")
    fields = {detail.field for detail in refused.value.details}
    assert fields == {"name", "email", "weekdays", "starts"}


def test_a_cover_shift_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(Invalid):
        rota.cover_shift(name="B", email="b@ops.example", starts_at=NOW, ends_at=NOW, now=NOW)


# ---- what a page sends ------------------------------------------------------------------------


def test_a_round_emails_each_person_on_call_once_and_triggers_the_pager_with_ids_and_codes_only() -> None:
    page = open_page(an_alarm(), now=NOW)
    on_call = [a_shift(rota.Weekly(frozenset({5}), 0, 1440)), a_shift(rota.Weekly(frozenset({5}), 0, 1440))]
    sent = messages.round_messages(
        page, on_call=on_call, pager=True, dashboard_url="https://ops.example/ops/paging"
    )
    assert [m.channel for m in sent] == ["email", "webhook"]  # the same address is e-mailed once
    trigger = sent[-1].payload
    assert trigger["event_action"] == "trigger" and trigger["dedup_key"] == page.dedup_key
    assert "routing_key" not in trigger
    body = trigger["payload"]
    assert isinstance(body, dict)
    assert set(body) >= {"summary", "source", "severity", "custom_details"}
    assert body["severity"] == "critical"
    assert "当番" not in str(trigger) and "a@ops.example" not in str(trigger)


def test_the_acknowledge_event_carries_only_the_action_and_dedup_key() -> None:
    page = open_page(an_alarm(), now=NOW)
    closing = messages.closing_message(page, PagerAction.ACKNOWLEDGE, dashboard_url="https://x.example")
    assert closing.payload == {"event_action": "acknowledge", "dedup_key": page.dedup_key}


def test_the_page_email_labels_japan_time_and_names_no_person() -> None:
    page = open_page(an_alarm(), now=NOW)
    mail = messages.page_email(
        page, sender="t@x.example", recipient="a@ops.example", round_no=2, dashboard_url="https://d", now=NOW
    )
    text = mail.get_content()
    assert "2026-12-04 23:00 JST" in text and "https://d" in text and str(page.referral_id) in text


def test_a_pager_url_without_its_routing_key_stops_start_up() -> None:
    base: dict[str, Any] = {
        "database_url": "postgresql://notify@127.0.0.1/notify",
        "auth_public_key": "a-public-key",
        "encryption_keys": generate_keyring_entry(),
        "link_signing_key": generate_signing_keypair()[0],
    }
    with pytest.raises(ValidationError):
        Settings(**base, pager_webhook_url="https://events.pagerduty.com/v2/enqueue")
    chosen = Settings(**base)
    assert (chosen.paging_repeat_s, chosen.paging_s4_ack_limit_s) == (300, 900)
