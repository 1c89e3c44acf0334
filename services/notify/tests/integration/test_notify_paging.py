"""On-call paging on a real database, a real SMTP server (aiosmtpd) and a real local HTTP pager:
an operator alert pages whoever is on call, pages again until acknowledged, pages once per
referral, and an S4 nobody accepted in time raises its own alert. The HTTP edge is driven too."""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from contracts.events import (
    Event,
    OperatorAlertRaised,
    ReferralHandledElsewhere,
)
from contracts.vocabulary import AlertKind, HandledElsewhereReason, Severity
from eventkit.auth import generate_signing_keypair
from eventkit.clock import MovableClock
from eventkit.testing import bearer, consume, service_database_fixtures
from notify.handlers import build_handlers
from notify.paging import repository, service
from notify.paging.domain import PageState, PagingPolicy
from notify.paging.rota import Weekly
from notify.paging.worker import PagerWebhook, PagingWorker
from notify.sender.mail import Mailer

from ..builders import handoff_offered
from .servers import MailSink, QuietHandler, http_server

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
POLICY = PagingPolicy(repeat=timedelta(minutes=5), max_alert_age=timedelta(hours=6))
ROUTING_KEY = "R0UT1NGKEY0000000000000000000001"
DASHBOARD = "https://ops.example/ops/paging"
PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()

service_db, pool = service_database_fixtures("notify", MIGRATIONS, pool_max=6)


@dataclass
class Pager:
    """A PagerDuty-shaped receiver on a free local port: keeps each event body, answers 202."""

    url: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def pager() -> Iterator[Pager]:
    state = Pager()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            state.events.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with http_server(Handler) as url:
        state.url = f"{url}/v2/enqueue"
        yield state


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime.now(UTC) + timedelta(seconds=1))


@pytest.fixture
async def worker(
    pool: asyncpg.Pool, smtp: MailSink, pager: Pager, clock: MovableClock
) -> AsyncIterator[PagingWorker]:
    made = PagingWorker(
        pool=pool,
        policy=POLICY,
        s4_ack_limit=timedelta(minutes=15),
        mailer=Mailer(smtp.server()),
        webhook=PagerWebhook(url=pager.url, routing_key=ROUTING_KEY, timeout_s=5),
        dashboard_url=DASHBOARD,
        clock=clock,
    )
    yield made
    await made.closed()


async def on_call_tonight(pool: asyncpg.Pool, *emails: str) -> None:
    for email in emails:
        await service.add_shift(
            pool,
            name="当番",
            email=email,
            when=Weekly(frozenset(range(1, 8)), 0, 1440),
            by="op",
            now=datetime.now(UTC),
        )


def an_alert(
    referral_id: uuid.UUID, *, kind: AlertKind = AlertKind.NO_MATCH, severity: Severity = Severity.S4
) -> OperatorAlertRaised:
    return OperatorAlertRaised(
        case_id=uuid.uuid4(),
        alert_id=uuid.uuid4(),
        kind=kind,
        referral_id=referral_id,
        severity=severity,
        raised_by="directory",
        detail=("no_candidates",),
        raised_at=datetime.now(UTC),
    )


async def handle(pool: asyncpg.Pool, event: Event, clock: MovableClock) -> None:
    """The table main.py builds, run as the consumer runs it."""
    handlers = build_handlers(POLICY, service.Pager(webhook=True, dashboard_url=DASHBOARD), clock)
    await consume(pool, handlers, event)


async def pages(pool: asyncpg.Pool) -> list[Any]:
    async with pool.acquire() as conn:
        return await repository.list_pages(conn, open_only=False, limit=50)


async def test_an_alert_pages_by_email_and_pager_again_until_acknowledged_then_the_pager_hears_it(
    pool: asyncpg.Pool, worker: PagingWorker, smtp: MailSink, pager: Pager, clock: MovableClock
) -> None:
    await on_call_tonight(pool, "oncall-a@ops.example", "oncall-b@ops.example")
    referral_id = uuid.uuid4()
    await handle(pool, an_alert(referral_id), clock)

    await worker.poll_once()
    assert sorted(str(m["To"]) for m in smtp.messages) == ["oncall-a@ops.example", "oncall-b@ops.example"]
    assert DASHBOARD in smtp.messages[0].get_content()
    [trigger] = pager.events
    assert trigger["routing_key"] == ROUTING_KEY and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == f"tsunagu:referral:{referral_id}"
    assert trigger["payload"]["severity"] == "critical" and trigger["payload"]["source"] == "tsunagu-notify"
    assert trigger["payload"]["custom_details"]["referral_id"] == str(referral_id)

    await worker.poll_once()  # not due yet: nothing more
    assert len(pager.events) == 1 and len(smtp.messages) == 2
    clock.advance(minutes=5)
    await worker.poll_once()
    assert [e["event_action"] for e in pager.events] == ["trigger", "trigger"] and len(smtp.messages) == 4

    [page] = await pages(pool)
    acked = await service.acknowledge_page(
        pool,
        page_id=page.id,
        by="operator1",
        now=clock(),
        pager=service.Pager(webhook=True, dashboard_url=DASHBOARD),
    )
    assert acked.state is PageState.ACKNOWLEDGED and acked.acknowledged_by == "operator1"
    await worker.poll_once()
    assert pager.events[-1] == {
        "routing_key": ROUTING_KEY,
        "event_action": "acknowledge",
        "dedup_key": f"tsunagu:referral:{referral_id}",
    }
    clock.advance(minutes=30)
    await worker.poll_once()
    assert len(pager.events) == 3 and len(smtp.messages) == 4


async def test_a_redelivered_alert_and_a_second_alert_about_the_referral_page_once(
    pool: asyncpg.Pool, worker: PagingWorker, smtp: MailSink, pager: Pager, clock: MovableClock
) -> None:
    await on_call_tonight(pool, "oncall-a@ops.example")
    referral_id = uuid.uuid4()
    alert = an_alert(referral_id)
    await handle(pool, alert, clock)
    await handle(pool, alert, clock)  # the same alert again (republished with a new event id)
    await handle(pool, an_alert(referral_id, kind=AlertKind.REFERRAL_EXHAUSTED), clock)

    await worker.poll_once()
    [page] = await pages(pool)
    assert page.occurrences == 2 and page.kinds == ("no_match", "referral_exhausted")
    assert len(pager.events) == 1 and len(smtp.messages) == 1


async def test_an_s2_nobody_took_and_a_stale_alert_page_nobody(
    pool: asyncpg.Pool, worker: PagingWorker, pager: Pager, clock: MovableClock
) -> None:
    await handle(pool, an_alert(uuid.uuid4(), severity=Severity.S2), clock)
    clock.advance(hours=7)
    await handle(pool, an_alert(uuid.uuid4()), clock)
    await worker.poll_once()
    assert await pages(pool) == [] and pager.events == []


async def test_an_s4_no_organisation_accepted_in_time_raises_one_operator_alert(
    pool: asyncpg.Pool, worker: PagingWorker, clock: MovableClock
) -> None:
    offer = handoff_offered(severity=Severity.S4, need_tags=(), language="ja")
    await handle(pool, offer, clock)
    await worker.poll_once()
    assert (
        await pool.fetchval("SELECT count(*) FROM outbox WHERE event_type = $1", OperatorAlertRaised.TYPE)
        == 0
    )

    clock.advance(minutes=16)
    await worker.poll_once()
    await worker.poll_once()
    [row] = await pool.fetch("SELECT payload FROM outbox WHERE event_type = $1", OperatorAlertRaised.TYPE)
    raised = row["payload"]
    assert raised["kind"] == "s4_unacknowledged" and raised["referral_id"] == str(offer.referral_id)
    assert raised["severity"] == "S4" and raised["raised_by"] == "notify"


# ---- the HTTP edge ----------------------------------------------------------------------------


@pytest.fixture
def auth_public_key() -> str:
    """The key of this module's tokens, for conftest's `client` (the real app, none of its loops:
    the tests drive the paging worker themselves; pages link to ops.example, DASHBOARD)."""
    return PUBLIC_KEY


OPERATOR = bearer(PRIVATE_KEY, "operator")
PARTNER = bearer(PRIVATE_KEY, "partner", uuid.uuid4())


async def test_an_operator_acknowledges_a_page_over_http_and_the_acknowledgement_is_recorded(
    pool: asyncpg.Pool, client: httpx.AsyncClient, clock: MovableClock
) -> None:
    await handle(pool, an_alert(uuid.uuid4()), clock)
    [page] = (await client.get("/v1/pages", headers=OPERATOR)).json()
    assert page["state"] == "triggered"

    answer = await client.post(f"/v1/pages/{page['id']}/acknowledge", headers=OPERATOR)
    assert answer.status_code == 200
    assert answer.json()["state"] == "acknowledged" and answer.json()["acknowledged_by"] == "operator-1"
    assert (await client.post(f"/v1/pages/{page['id']}/acknowledge", headers=PARTNER)).status_code == 403
    detail = (await client.get(f"/v1/pages/{page['id']}", headers=OPERATOR)).json()
    assert detail["acknowledged_by"] == "operator-1" and detail["messages"] == []
    missing = await client.post(f"/v1/pages/{uuid.uuid4()}/acknowledge", headers=OPERATOR)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "page_not_found"


async def test_an_operator_edits_the_rota_and_a_wrong_shift_is_a_clear_422(client: httpx.AsyncClient) -> None:
    shift = {"kind": "weekly", "name": "当番A", "email": "a@ops.example", "weekdays": [1, 2, 3, 4, 5, 6, 7]}
    added = await client.post(
        "/v1/oncall/shifts", json=shift | {"starts": "00:00", "ends": "24:00"}, headers=OPERATOR
    )
    assert added.status_code == 201 and added.json()["on_call_now"] is True
    rota = (await client.get("/v1/oncall", headers=OPERATOR)).json()
    assert rota["on_call"] == [added.json()["id"]]

    wrong = await client.post(
        "/v1/oncall/shifts", json=shift | {"starts": "25:00", "ends": "07:00"}, headers=OPERATOR
    )
    assert wrong.status_code == 422
    assert [d["field"] for d in wrong.json()["error"]["details"]] == ["starts"]

    gone = await client.delete(f"/v1/oncall/shifts/{added.json()['id']}", headers=OPERATOR)
    assert gone.status_code == 204
    assert (await client.get("/v1/oncall", headers=OPERATOR)).json()["shifts"] == []


async def test_a_referral_handled_elsewhere_resolves_its_page_and_the_pager_hears_resolve(
    pool: asyncpg.Pool, worker: PagingWorker, pager: Pager, clock: MovableClock
) -> None:
    referral_id = uuid.uuid4()
    alert = an_alert(referral_id)
    await handle(pool, alert, clock)
    await worker.poll_once()
    await handle(
        pool,
        ReferralHandledElsewhere(
            case_id=alert.case_id,
            referral_id=referral_id,
            reason=HandledElsewhereReason.PARTNER_BY_PHONE,
            handled_at=datetime.now(UTC),
        ),
        clock,
    )
    await worker.poll_once()
    [page] = await pages(pool)
    assert page.state is PageState.RESOLVED and page.resolved_by == "referral"
    assert [e["event_action"] for e in pager.events] == ["trigger", "resolve"]

    await handle(pool, an_alert(referral_id, kind=AlertKind.REFERRAL_EXHAUSTED), clock)  # a new page
    assert [p.state for p in await pages(pool)].count(PageState.TRIGGERED) == 1
