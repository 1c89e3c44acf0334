"""referral's HTTP edge over a real database: reads, roles, 4xx bodies, and the handoff commands —
acknowledge (API and signed link), decline, outcomes, withdraw — with the events they stage."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from eventkit.auth import generate_signing_keypair
from eventkit.links import mint_link_token
from eventkit.testing import bearer, outbox_rows
from referral.lifecycle import notes
from referral.lifecycle.domain import Referral
from referral.lifecycle.service import Lifecycle

ORG = uuid.uuid4()
OTHER_ORG = uuid.uuid4()
THIRD_ORG = uuid.uuid4()
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()
LINK_KEY, LINK_PUBLIC_KEY = generate_signing_keypair()


@dataclass
class Api:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    private_key: str
    link_key: str
    clock: Any
    lifecycle: Lifecycle
    seeder: Any

    def headers(self, role: str, organisation_id: uuid.UUID | None = None) -> dict[str, str]:
        return bearer(self.private_key, role, organisation_id)

    async def get(
        self, path: str, role: str, organisation_id: uuid.UUID | None = None, **params: str
    ) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers(role, organisation_id))

    async def post(
        self, path: str, role: str, organisation_id: uuid.UUID | None = None, json: Any = None
    ) -> httpx.Response:
        return await self.client.post(path, json=json, headers=self.headers(role, organisation_id))

    async def seed(self, *offered_to: uuid.UUID, **options: Any) -> Referral:
        referral: Referral = await self.seeder(
            self.pool, offered_to=offered_to, lifecycle=self.lifecycle, **options
        )
        return referral

    def link(self, referral: Referral, attempt: int, organisation_id: uuid.UUID, **changes: Any) -> str:
        """The path notify would put in the alert, minted the way notify mints it."""
        values: dict[str, Any] = {
            "token_id": uuid.uuid4(),
            "referral_id": referral.id,
            "organisation_id": organisation_id,
            "attempt": attempt,
            "issued_at": self.clock(),
            "expires_at": self.clock() + timedelta(days=1),
        }
        return "/v1/acknowledgements/" + mint_link_token(self.link_key, **(values | changes))


@pytest.fixture
def auth_public_key() -> str:
    return PUBLIC_KEY


@pytest.fixture
def link_verify_key() -> str:
    return LINK_PUBLIC_KEY


@pytest.fixture
def api(client: httpx.AsyncClient, pool: asyncpg.Pool, clock: Any, lifecycle: Lifecycle, seed: Any) -> Api:
    """The real app (conftest's `client`, none of its loops: the outbox rows stay in the test's
    database for the test to read, and nothing reaches the broker)."""
    return Api(client, pool, PRIVATE_KEY, LINK_KEY, clock, lifecycle, seed)


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_a_counsellor_reads_a_referral_with_its_timeline(api: Api) -> None:
    referral = await api.seed(ORG)
    response = await api.get(f"/v1/referrals/{referral.id}", "counsellor")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(referral.id)
    assert body["case_id"] == str(referral.case_id)
    assert (body["state"], body["organisation_id"], body["attempt"]) == ("offered", str(ORG), 1)
    assert body["deadline_at"] is not None
    assert (body["topic"], body["municipality_code"], body["severity"], body["lawful_basis"]) == (
        "WOMEN",
        "131016",
        "S3",
        "CONSENT",
    )
    assert body["reasons"] == ["municipality_match"]
    assert {"created_at", "updated_at"} <= set(body)
    assert [(t["state"], t["actor"]) for t in body["timeline"]] == [
        ("requested", "referral"),
        ("matched", "directory"),
        ("offered", "referral"),
    ]
    assert body["timeline"][0]["trace_id"] == TRACE_ID
    assert set(body["timeline"][0]) == {
        "state",
        "at",
        "actor",
        "trace_id",
        "attempt",
        "organisation_id",
        "detail",
    }
    assert [(a["attempt"], a["organisation_id"], a["state"]) for a in body["attempts"]] == [
        (1, str(ORG), "offered")
    ]
    assert "candidates" not in body  # other organisations' ids are not a reader's business


async def test_an_operator_reads_any_referral(api: Api) -> None:
    referral = await api.seed()
    response = await api.get(f"/v1/referrals/{referral.id}", "operator")
    assert response.status_code == 200
    assert response.json()["state"] == "requested"


async def test_a_partner_reads_a_referral_handed_to_its_own_organisation(api: Api) -> None:
    referral = await api.seed(ORG)
    response = await api.get(f"/v1/referrals/{referral.id}", "partner", ORG)
    assert response.status_code == 200
    assert response.json()["organisation_id"] == str(ORG)


async def test_a_referral_read_says_which_steps_the_reader_may_take_now(api: Api) -> None:
    referral = await api.seed(ORG)
    offered = (await api.get(f"/v1/referrals/{referral.id}", "partner", ORG)).json()
    await api.post(ack_path(referral), "partner", ORG)
    accepted = (await api.get(f"/v1/referrals/{referral.id}", "partner", ORG)).json()
    staff = (await api.get(f"/v1/referrals/{referral.id}", "counsellor")).json()

    assert offered["actions"] == ["acknowledged", "declined"]
    assert accepted["actions"] == ["contacted", "closed"]  # 同行支援 only after 面談
    assert staff["actions"] == ["withdrawn"]


async def test_partner_cannot_read_another_partners_referral(api: Api) -> None:
    referral = await api.seed(ORG)
    response = await api.get(f"/v1/referrals/{referral.id}", "partner", OTHER_ORG)
    assert response.status_code == 404
    assert error_code(response) == "not_found"


async def seed_unmatched(api: Api, *, age_s: int) -> Referral:
    referral = await api.seed(age_s=age_s)
    async with api.pool.acquire() as conn:
        await conn.execute(
            "UPDATE referrals SET state = 'unmatched', updated_at = $2 WHERE id = $1",
            referral.id,
            api.clock() - timedelta(seconds=age_s),
        )
    return referral


async def test_a_partner_cannot_read_a_referral_that_no_organisation_holds_yet(api: Api) -> None:
    referral = await api.seed()
    response = await api.get(f"/v1/referrals/{referral.id}", "partner", ORG)
    assert response.status_code == 404


async def test_an_unknown_referral_is_not_found(api: Api) -> None:
    response = await api.get(f"/v1/referrals/{uuid.uuid4()}", "operator")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


async def test_a_malformed_referral_id_is_a_validation_error_with_the_error_body(api: Api) -> None:
    response = await api.get("/v1/referrals/not-a-uuid", "operator")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"][0]["field"] == "path.referral_id"
    assert "not-a-uuid" not in response.text  # the reason only, never the input


async def test_a_request_without_a_token_is_refused(api: Api) -> None:
    response = await api.client.get(f"/v1/referrals/{uuid.uuid4()}")
    assert response.status_code == 401
    assert error_code(response) == "missing_token"


async def test_a_counsellor_finds_the_referral_of_a_case(api: Api) -> None:
    referral = await api.seed()
    await api.seed()
    response = await api.get("/v1/referrals", "counsellor", case_id=str(referral.case_id))
    assert response.status_code == 200
    [found] = response.json()
    assert (found["id"], found["case_id"]) == (str(referral.id), str(referral.case_id))
    assert "timeline" not in found


async def test_a_case_without_a_referral_gives_an_empty_list(api: Api) -> None:
    response = await api.get("/v1/referrals", "operator", case_id=str(uuid.uuid4()))
    assert response.status_code == 200
    assert response.json() == []


async def test_an_operator_lists_referrals_in_a_state_longest_waiting_first(api: Api) -> None:
    newer = await seed_unmatched(api, age_s=60)
    older = await seed_unmatched(api, age_s=600)
    await api.seed(ORG)
    response = await api.get("/v1/referrals", "operator", state="unmatched")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == [str(older.id), str(newer.id)]
    limited = await api.get("/v1/referrals", "operator", state="unmatched", limit="1")
    assert [r["id"] for r in limited.json()] == [str(older.id)]


async def test_only_operators_list_referrals_by_state(api: Api) -> None:
    response = await api.get("/v1/referrals", "counsellor", state="unmatched")
    assert response.status_code == 403
    assert error_code(response) == "forbidden"


async def test_partners_cannot_search_referrals(api: Api) -> None:
    response = await api.get("/v1/referrals", "partner", ORG, case_id=str(uuid.uuid4()))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query.case_id"),
        ({"state": "escalated"}, "query.state"),  # a step of the timeline, not a state
        ({"case_id": "12345"}, "query.case_id.0"),  # repeatable: the first one
        ({"state": "unmatched", "limit": "0"}, "query.limit"),
        ({"state": "unmatched", "limit": "201"}, "query.limit"),
    ],
)
async def test_bad_search_parameters_are_validation_errors(
    api: Api, params: dict[str, str], field: str
) -> None:
    response = await api.get("/v1/referrals", "operator", None, **params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [d["field"] for d in error["details"]] == [field]


# ---- the handoff commands ----------------------------------------------------------------------


async def payloads(api: Api, event_type: str) -> list[dict[str, Any]]:
    return [row["payload"] for row in await outbox_rows(api.pool) if row["event_type"] == event_type]


def ack_path(referral: Referral, attempt: int = 1) -> str:
    return f"/v1/referrals/{referral.id}/attempts/{attempt}/acknowledge"


def decline_path(referral: Referral, attempt: int = 1) -> str:
    return f"/v1/referrals/{referral.id}/attempts/{attempt}/decline"


async def test_the_offered_partner_acknowledges_through_the_api_once_however_often_it_asks(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)

    first = await api.post(ack_path(referral), "partner", ORG)
    again = await api.post(ack_path(referral), "partner", ORG)

    assert first.status_code == 200, first.text
    assert (first.json()["state"], first.json()["repeated"], first.json()["organisation_id"]) == (
        "acknowledged",
        False,
        str(ORG),
    )
    assert (again.status_code, again.json()["repeated"], again.json()["at"]) == (
        200,
        True,
        first.json()["at"],
    )
    [announced] = await payloads(api, "handoff.acknowledged.v1")
    assert (announced["organisation_id"], announced["attempt"], announced["via"]) == (str(ORG), 1, "api")
    read = await api.get(f"/v1/referrals/{referral.id}", "counsellor")
    assert (read.json()["state"], read.json()["deadline_at"]) == ("acknowledged", None)
    assert read.json()["timeline"][-1]["actor"] == "partner-1"
    assert read.json()["timeline"][-1]["trace_id"] == TRACE_ID  # the click joins the case's trace


async def test_partner_cannot_acknowledge_or_read_another_partners_handoff(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)

    acknowledged = await api.post(ack_path(referral), "partner", OTHER_ORG)
    declined = await api.post(decline_path(referral), "partner", OTHER_ORG, json={"reason": "no_capacity"})
    read = await api.get(f"/v1/referrals/{referral.id}", "partner", OTHER_ORG)
    timeline = await api.get(f"/v1/referrals/{referral.id}/timeline", "partner", OTHER_ORG)
    as_counsellor = await api.post(ack_path(referral), "counsellor")

    for response in (acknowledged, declined, read, timeline):
        assert response.status_code == 404
        assert response.json() == read.json()  # the same as a referral that does not exist
    assert as_counsellor.status_code == 403
    assert await payloads(api, "handoff.acknowledged.v1") == []


async def test_a_decline_offers_the_next_organisation_and_keeps_the_partners_note_to_referral(
    api: Api,
) -> None:
    referral = await api.seed(ORG, OTHER_ORG)
    note = "今週は定員を超えています(担当 山田)"

    response = await api.post(decline_path(referral), "partner", ORG, json={"reason": "other", "note": note})

    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["repeated"]) == ("declined", False)
    read = (await api.get(f"/v1/referrals/{referral.id}", "operator")).json()
    assert (read["state"], read["organisation_id"], read["attempt"]) == ("offered", str(OTHER_ORG), 2)
    [declined] = await payloads(api, "handoff.declined.v1")
    assert declined["reason"] == "other"
    [escalated] = await payloads(api, "referral.escalated.v1")
    assert (escalated["cause"], escalated["to_organisation_id"]) == ("declined", str(OTHER_ORG))
    assert [p["organisation"]["organisation_id"] for p in await payloads(api, "handoff.offered.v2")] == [
        str(ORG),
        str(OTHER_ORG),
    ]
    everything = " ".join(str(row["payload"]) for row in await outbox_rows(api.pool))
    timeline = str(read["timeline"])
    assert note not in everything and note not in timeline
    stored = await api.pool.fetchrow(
        "SELECT decline_note, decline_note_enc FROM handoff_attempts WHERE referral_id = $1 AND attempt = 1",
        referral.id,
    )
    assert stored is not None and stored["decline_note"] is None and note not in stored["decline_note_enc"]
    assert api.lifecycle.notes is not None
    context = notes.decline_context(referral.id, 1)
    assert api.lifecycle.notes.decrypt(stored["decline_note_enc"], context=context) == note


async def test_a_note_an_older_version_stored_in_plain_text_is_sealed_on_start(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)
    note = "古い版が平文で保存したメモ"
    await api.post(decline_path(referral), "partner", ORG, json={"reason": "other", "note": note})
    await api.pool.execute(
        # Attempt 1 only: the row order of a bare SELECT below would otherwise pick either attempt.
        "UPDATE handoff_attempts SET decline_note = $2, decline_note_enc = NULL WHERE referral_id = $1 AND attempt = 1",
        referral.id,
        note,
    )
    assert api.lifecycle.notes is not None
    await notes.NoteSealer(pool=api.pool, keyring=api.lifecycle.notes).poll_once()
    stored = await api.pool.fetchrow(
        "SELECT decline_note, decline_note_enc FROM handoff_attempts WHERE referral_id = $1 AND attempt = 1",
        referral.id,
    )
    assert stored is not None and stored["decline_note"] is None
    context = notes.decline_context(referral.id, 1)
    assert api.lifecycle.notes.decrypt(stored["decline_note_enc"], context=context) == note
    assert await notes.seal_plain_notes(api.pool, api.lifecycle.notes) == 0


async def test_declining_with_other_needs_a_note_and_an_unknown_reason_is_refused(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)

    no_note = await api.post(decline_path(referral), "partner", ORG, json={"reason": "other"})
    unknown = await api.post(decline_path(referral), "partner", ORG, json={"reason": "busy"})

    assert (no_note.status_code, unknown.status_code) == (422, 422)
    assert [d["field"] for d in unknown.json()["error"]["details"]] == ["body.reason"]


async def test_a_late_acknowledgement_after_the_handoff_moved_on_answers_409_reassigned(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)
    await api.post(decline_path(referral), "partner", ORG, json={"reason": "no_capacity"})

    late = await api.post(ack_path(referral), "partner", ORG)

    assert late.status_code == 409
    error = late.json()["error"]
    assert error["code"] == "reassigned"
    assert "moved on to another organisation" in error["message"]


async def test_a_partner_reads_the_timeline_of_its_own_attempts_only_even_after_it_moved_on(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)
    await api.post(decline_path(referral), "partner", ORG, json={"reason": "out_of_area"})

    mine = await api.get(f"/v1/referrals/{referral.id}/timeline", "partner", ORG)
    theirs = await api.get(f"/v1/referrals/{referral.id}/timeline", "partner", OTHER_ORG)
    everything = await api.get(f"/v1/referrals/{referral.id}/timeline", "counsellor")

    assert [(e["state"], e["attempt"]) for e in mine.json()["timeline"]] == [
        ("matched", None),  # the directory chose this organisation first
        ("offered", 1),
        ("declined", 1),
        ("escalated", 1),
    ]
    assert "to_organisation_id" not in str(mine.json())  # reassigned, but not to whom
    assert [e["state"] for e in theirs.json()["timeline"]] == ["offered"]
    assert [e["state"] for e in everything.json()["timeline"]] == [
        "requested",
        "matched",
        "offered",
        "declined",
        "escalated",
        "offered",
    ]
    # The decline, the escalation and the new offer happened in the case's trace.
    assert {e["trace_id"] for e in everything.json()["timeline"][3:]} == {TRACE_ID}


# ---- the signed link ---------------------------------------------------------------------------


async def test_opening_the_link_shows_the_handoff_and_only_pressing_the_button_acknowledges(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)
    link = api.link(referral, 1, ORG)

    page = await api.client.get(link)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<form method="post">' in page.text and "131016" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert await payloads(api, "handoff.acknowledged.v1") == []  # a mail scanner's GET does nothing

    pressed = await api.client.post(link)
    assert pressed.status_code == 200 and "引き受けました" in pressed.text
    [announced] = await payloads(api, "handoff.acknowledged.v1")
    assert (announced["via"], announced["organisation_id"], announced["attempt"]) == ("link", str(ORG), 1)

    again = await api.client.post(link, headers={"Accept": "application/json"})
    assert again.status_code == 200
    assert (again.json()["state"], again.json()["repeated"]) == ("acknowledged", True)
    assert len(await payloads(api, "handoff.acknowledged.v1")) == 1
    assert await api.pool.fetchval("SELECT count(*) FROM used_links") == 1
    shown = await api.client.get(link)
    assert "<form" not in shown.text  # nothing left to press


async def test_a_link_used_after_the_handoff_moved_on_says_reassigned_and_is_spent(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)
    link = api.link(referral, 1, ORG)
    await api.post(decline_path(referral), "partner", ORG, json={"reason": "no_capacity"})

    first = await api.client.post(link, headers={"Accept": "application/json"})
    html = await api.client.post(link)

    assert first.status_code == 409 and first.json()["error"]["code"] == "reassigned"
    assert html.status_code == 409 and "他の団体へ移りました" in html.text
    assert await api.pool.fetchval("SELECT result FROM used_links") == "reassigned"


async def test_an_expired_forged_or_misdirected_link_is_refused(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)
    expired = api.link(referral, 1, ORG, expires_at=api.clock() - timedelta(seconds=1))
    forged = "/v1/acknowledgements/" + mint_link_token(
        generate_signing_keypair()[0],
        token_id=uuid.uuid4(),
        referral_id=referral.id,
        organisation_id=ORG,
        attempt=1,
        issued_at=api.clock(),
        expires_at=api.clock() + timedelta(days=1),
    )
    misdirected = api.link(referral, 1, OTHER_ORG)
    json = {"Accept": "application/json"}

    assert (await api.client.post(expired, headers=json)).json()["error"]["code"] == "link_expired"
    assert (await api.client.post(expired)).status_code == 410
    assert (await api.client.post(forged, headers=json)).status_code == 401
    assert (await api.client.get(forged, headers=json)).json()["error"]["code"] == "invalid_link"
    assert (await api.client.post(misdirected, headers=json)).status_code == 404
    assert await payloads(api, "handoff.acknowledged.v1") == []


# ---- outcomes and withdrawal -------------------------------------------------------------------


async def test_the_accepting_partner_records_contact_accompaniment_and_the_closing_outcome(api: Api) -> None:
    referral = await api.seed(ORG, OTHER_ORG)
    await api.post(ack_path(referral), "partner", ORG)
    path = f"/v1/referrals/{referral.id}/outcome"

    contacted = await api.post(path, "partner", ORG, json={"stage": "contacted"})
    missing_place = await api.post(path, "partner", ORG, json={"stage": "accompanied"})
    accompanied = await api.post(
        path, "partner", ORG, json={"stage": "accompanied", "accompanied_to": "hospital"}
    )
    closed = await api.post(path, "partner", ORG, json={"stage": "closed", "outcome": "supported"})
    after_close = await api.post(path, "partner", ORG, json={"stage": "contacted"})
    by_another = await api.post(path, "partner", OTHER_ORG, json={"stage": "contacted"})

    assert [r.json().get("state") for r in (contacted, accompanied, closed)] == [
        "contacted",
        "accompanied",
        "closed",
    ]
    assert missing_place.status_code == 422
    assert after_close.status_code == 409
    assert after_close.json()["error"] == {
        "code": "illegal_transition",
        "message": "A referral that is closed cannot become contacted.",
        "details": [],
    }
    assert by_another.status_code == 404
    recorded = await payloads(api, "handoff.outcome_recorded.v1")
    assert [(p["stage"], p["outcome"], p["accompanied_to"]) for p in recorded] == [
        ("contacted", None, None),
        ("accompanied", None, "hospital"),
        ("closed", "supported", None),
    ]


async def test_a_counsellor_withdraws_a_referral_and_a_later_acknowledgement_hears_withdrawn(
    api: Api,
) -> None:
    referral = await api.seed(ORG, OTHER_ORG)
    path = f"/v1/referrals/{referral.id}/withdraw"

    withdrawn = await api.post(path, "counsellor", json={"reason": "resolved_on_call"})
    late = await api.post(ack_path(referral), "partner", ORG)
    twice = await api.post(path, "counsellor", json={"reason": "resolved_on_call"})
    by_partner = await api.post(path, "partner", ORG, json={"reason": "other"})

    assert (withdrawn.status_code, withdrawn.json()["state"]) == (200, "withdrawn")
    assert (late.status_code, late.json()["error"]["code"]) == (409, "withdrawn")
    assert twice.status_code == 409
    assert by_partner.status_code == 403
    [announced] = await payloads(api, "referral.withdrawn.v1")
    assert announced["reason"] == "resolved_on_call"


async def test_operators_list_overdue_referrals_oldest_deadline_first(api: Api) -> None:
    older = await api.seed(ORG)
    api.clock.advance(minutes=5)
    newer = await api.seed(OTHER_ORG)
    api.clock.advance(minutes=31)
    not_yet = await api.seed(THIRD_ORG)

    overdue = await api.get("/v1/referrals/overdue", "operator")
    by_counsellor = await api.get("/v1/referrals/overdue", "counsellor")

    assert overdue.status_code == 200
    ids = [r["id"] for r in overdue.json()]
    assert ids == [str(older.id), str(newer.id)]
    assert str(not_yet.id) not in ids
    assert by_counsellor.status_code == 403
