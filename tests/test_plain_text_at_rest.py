"""Every text and JSON column of every service's database, and whether it may hold plain text.

Personal data (names, phones, addresses, free text, the risk assessment) is sealed with the
service's keyring: such a column is listed in SEALED and must hold only keyring tokens. Every other
text column is listed in PLAIN with why plain text is fine there. A column added tomorrow fails
this test until someone decides which it is. That sealed columns hold only keyring tokens once
filled is test_intake_maintenance's (every personal column, populated, under the active key).
"""

from collections.abc import Mapping
from pathlib import Path

import asyncpg
import pytest

from eventkit.db import migrate, service_migrations
from eventkit.testing import Infra, database_of_its_own
from intake.sealing import SEALED_COLUMNS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "referral", "directory", "notify", "web")

CODES = "codes, states and kinds from fixed vocabularies"
STAFF = "who acted: a staff account's username, never a consultation's person"
PLUMBING = "event plumbing: ids, topics, trace context; events carry no personal data"
TRACE = "trace ids and W3C trace context"
LEGACY = "legacy plain column, written NULL; the service seals what older versions left on start"
PUBLIC_REGISTER = "the public register of support organisations: their own public details"


def _same(reason: str, *columns: str) -> dict[str, str]:
    return dict.fromkeys(columns, reason)


_COMMON = {
    **_same(
        PLUMBING,
        "outbox.event_type",
        "outbox.headers",
        "outbox.message_key",
        "outbox.payload",
        "outbox.topic",
    ),
    **_same(PLUMBING, "inbox.consumer", "inbox.topic"),
    **_same(
        "the migration runner's bookkeeping",
        *(f"schema_migrations.{c}" for c in ("component", "name", "version")),
    ),
}

# Personal data, each column holding only keyring tokens (intake's list is sealing.SEALED_COLUMNS).
SEALED: Mapping[str, set[str]] = {
    "intake": {f"{c.table}.{c.column}" for c in SEALED_COLUMNS},
    "notify": {"partner_secrets.secret_enc", "partner_secrets.previous_secret_enc"},
    # Partners' and operators' notes (referral.lifecycle.notes).
    "referral": {"handoff_attempts.decline_note_enc", "handled_elsewhere_notes.note_enc"},
}

PLAIN: Mapping[str, Mapping[str, str]] = {
    "intake": {
        **_COMMON,
        **_same(
            CODES,
            *("call_legs." + c for c in ("dial_status", "digit", "route_reason", "routed_to", "topic")),
            *("chat_messages." + c for c in ("delivery", "kind", "sender")),
            *("chats." + c for c in ("channel", "closed_reason", "language", "state", "topic", "farewell")),
            *("consents." + c for c in ("decision", "items", "method", "recipient_kind", "text_version")),
            "consultation_revisions.fields",
            *(
                "consultations." + c
                for c in ("age_band", "channel", "closed_reason", "computed_severity", "gender")
            ),
            *("consultations." + c for c in ("language", "lawful_basis", "menu_digit", "municipality_code")),
            *("consultations." + c for c in ("need_tags", "rule_version", "severity", "topic")),
            *("disclosures." + c for c in ("items", "lawful_basis", "provenance")),
            *("severity_decisions." + c for c in ("computed_severity", "direction", "final_severity")),
            *("severity_decisions." + c for c in ("previous_severity", "rule_version")),
            "voice_menus.campaign",
        ),
        **_same(
            STAFF,
            "call_legs.completed_by",
            "chat_messages.counsellor",
            "chats.closed_by",
            "chats.taken_by",
            "consents.obtained_by",
            "consultation_revisions.changed_by",
            "consultations.recorded_by",
            "disclosures.released_by",
            "severity_decisions.decided_by",
            "voice_menu_activations.activated_by",
            "voice_menus.created_by",
            "idempotency_keys.subject",
        ),
        **_same(TRACE, "consultations.trace_id"),
        **_same(LEGACY, "consultations.risk", "severity_decisions.answers"),
        "consultations.risk_flags": "the rule codes behind the severity, which routing reads in plain as it does the level",
        "severity_decisions.flags": "the rule codes behind the severity, as consultations.risk_flags",
        "consultations.emergency_call": "that 110/119 was called, by whom (a role) and when: codes and a time",
        "consultation_revisions.before": "the non-personal fields before a change (summary, contact, risk go to before_enc)",
        "call_legs.call_sid": "the provider's call id",
        "call_legs.called_number": "the hotline's own number that was dialled, not the caller's",
        "chat_messages.provider_message_id": "the provider's message id",
        "chats.user_ref": "a keyed hash of the LINE user id, to find a person's chat without decrypting",
        "chats.consent": "the consent answer's codes",
        "chats.consent_requested": "which consent question was asked (an id)",
        "disclosures.prev_hash": "the disclosure log's hash chain",
        "disclosures.row_hash": "the disclosure log's hash chain",
        "idempotency_keys.key": "a client's idempotency key",
        "idempotency_keys.request_hash": "a hash of the request",
        "line_webhook_events.webhook_event_id": "the provider's event id",
        "voice_menus.fallback_number": "the hotline's public fallback number",
        "voice_menus.greeting": "the public greeting every caller hears",
        "voice_menus.options": "the public menu every caller hears",
    },
    "referral": {
        **_COMMON,
        **_same(
            CODES,
            *("handoff_attempts." + c for c in ("decline_reason", "state", "via")),
            "referral_timeline.state",
            *(
                "referrals." + c
                for c in ("age_band", "gender", "language", "lawful_basis", "municipality_code")
            ),
            *("referrals." + c for c in ("need_tags", "reasons", "severity", "state", "topic")),
            "used_links.result",
        ),
        **_same(
            STAFF,
            "handled_elsewhere_notes.written_by",
            "handoff_attempts.acted_by",
            "referral_timeline.actor",
        ),
        **_same(TRACE, "handoff_timers.trace_headers", "referral_timeline.trace_id"),
        **_same(TRACE, "referrals.trace_headers", "referrals.trace_id"),
        "referral_timeline.detail": "what happened, as codes and organisation ids",
        "referrals.candidates": "the organisations a case may go to: ids, ranks and reason codes",
        **_same(LEGACY, "handoff_attempts.decline_note", "handled_elsewhere_notes.note"),
    },
    "directory": {
        **_COMMON,
        **_same(
            PUBLIC_REGISTER,
            *("change_log." + c for c in ("field_name", "last_action_type", "previous_value")),
            *("change_log." + c for c in ("replacement_value", "resource_type")),
            *(
                "locations." + c
                for c in ("address", "location_type", "municipality_code", "name", "postal_code")
            ),
            *(
                "organisations." + c
                for c in ("alternate_name", "channels", "corporate_number", "description")
            ),
            *("organisations." + c for c in ("email", "name", "org_type", "phone", "portal_url")),
            *("organisations." + c for c in ("webhook_url", "website")),
            *("services." + c for c in ("capabilities", "capacity_description", "capacity_unit", "coverage")),
            *("services." + c for c in ("description", "genders", "languages", "name", "residency")),
            *("services." + c for c in ("schedules", "status", "topics")),
        ),
        **_same(STAFF, "change_log.updated_by", "locations.updated_by", "organisations.last_verified_by"),
        **_same(STAFF, "organisations.updated_by", "services.updated_by"),
        **_same(CODES, "matches.candidates", "matches.reasons", "offers.ended"),
        **_same(TRACE, "matches.trace_id"),
    },
    "notify": {
        **_COMMON,
        **_same(
            CODES,
            *("alerts." + c for c in ("age_band", "alert_key", "channels", "language", "municipality_code")),
            *(
                "alerts." + c
                for c in ("need_tags", "outcome", "severity", "state", "topic", "accompanied_to")
            ),
            *("deliveries." + c for c in ("channel", "delivery_id", "status")),
            "page_alerts.kind",
            *("page_messages." + c for c in ("action", "channel", "status")),
            *("pages." + c for c in ("dedup_key", "kind", "kinds", "severity", "source", "state")),
        ),
        "deliveries.payload": "the webhook body: ids, codes and a link, never a person's data",
        "page_messages.payload": "the page's text: codes, a deadline and a link, never a person's data",
        "pages.detail": "what paged: codes and counts",
        **_same(TRACE, "deliveries.trace_headers"),
        **_same("an error message from the partner's side or the mail server", "deliveries.last_error"),
        **_same("an error message", "delivery_attempts.error", "page_messages.last_error"),
        **_same(PUBLIC_REGISTER, "deliveries.email_to", "deliveries.webhook_url"),
        **_same(
            "the on-call staff's work contact, not a consultation's person",
            "oncall_shifts.email",
            "oncall_shifts.name",
            "page_messages.recipient",
            "page_messages.recipient_name",
        ),
        **_same(STAFF, "oncall_shifts.created_by", "pages.acknowledged_by", "pages.resolved_by"),
    },
    "web": {
        **_COMMON,
        **_same(STAFF, "dead_letter_replays.replayed_by", "users.username", "users.display_name"),
        "dead_letter_replays.topic": "a topic name",
        "users.role": CODES,
        "users.password_hash": "an Argon2id hash",
        "sessions.id_hash": "a SHA-256 of the session id",
        "sessions.csrf_token": "a random token, worthless without the session",
        "sign_in_failures.username": "what was typed as a username at a failed sign-in",
        "sign_in_failures.client": "the client address of a failed sign-in, kept for the throttle's window",
    },
}

COLUMNS_QUERY = """
SELECT c.table_name || '.' || c.column_name AS name
  FROM information_schema.columns c
  JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
 WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
   AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
        OR (c.data_type = 'ARRAY' AND c.udt_name IN ('_text', '_varchar', '_json', '_jsonb')))
"""


async def text_columns(infra: Infra, service: str) -> set[str]:
    async with database_of_its_own(infra) as url:
        await migrate(url, service_migrations(service, ROOT / "services" / service / "migrations"))
        conn = await asyncpg.connect(url)
        try:
            return {row["name"] for row in await conn.fetch(COLUMNS_QUERY)}
        finally:
            await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_every_text_column_is_either_sealed_or_plain_for_a_stated_reason(
    infra: Infra, service: str
) -> None:
    found = await text_columns(infra, service)
    sealed = SEALED.get(service, set())
    plain = PLAIN[service]
    assert not sealed & plain.keys(), "a column cannot be both"
    unclassified = sorted(found - sealed - plain.keys())
    assert unclassified == [], f"{service}: decide whether these may hold plain text: {unclassified}"
    assert sorted((sealed | plain.keys()) - found) == [], f"{service}: listed but gone"
