import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import standardwebhooks
from opentelemetry import context as otel_context
from opentelemetry import propagate

from contracts.events import (
    Event,
    HandoffAcknowledged,
    HandoffExpired,
    HandoffOffered,
    OfferedOrganisation,
    ReferralEscalated,
)
from eventkit.auth import generate_signing_keypair
from eventkit.clock import MovableClock
from eventkit.crypto import Keyring, generate_keyring_entry
from eventkit.links import LinkVerifier
from eventkit.testing import consume, outbox_rows, service_database_fixtures
from notify.alerts.handlers import HANDLERS
from notify.deliveries import repository
from notify.deliveries.domain import Delivery, RetryPolicy
from notify.links import AckLinks
from notify.partners import service
from notify.partners.domain import IssuedSecret
from notify.sender.mail import Mailer, SmtpServer
from notify.sender.worker import DeliveryWorker
from notify.signing import verify_signature

from ..builders import handoff_offered
from .servers import MailSink, QuietHandler, http_server

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
LINK_KEY, LINK_PUBLIC_KEY = generate_signing_keypair()
REFERRAL_URL = "http://referral.test"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


# ---- a real partner: an HTTP server on a free local port -------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Counts every POST; answers with `status` (or the next of `statuses`) after `delay_s`."""

    url: str = ""
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    body_delay_s: float = 0.0  # between the status line and headers, and the body
    received: list[Received] = field(default_factory=list)
    peers: set[tuple[str, int]] = field(default_factory=set)  # one per connection
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, organisation_id: uuid.UUID) -> str:
        return f"{self.url}/hooks/{organisation_id}"

    def answer(self, request: Received) -> int:
        with self.lock:
            self.received.append(request)
            return self.statuses.pop(0) if self.statuses else self.status

    def delivery_ids(self) -> list[str]:
        with self.lock:
            return [r.headers["tsunagu-delivery-id"] for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as partners' servers do

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = state.answer(Received(self.path, headers, body))
            with state.lock:
                state.peers.add(self.client_address)
            if state.delay_s:
                time.sleep(state.delay_s)
            reply = b'{"detail": "a body notify must never store"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            if state.body_delay_s:
                self.wfile.flush()
                time.sleep(state.body_delay_s)
            self.wfile.write(reply)

    with http_server(Handler) as url:
        state.url = url
        yield state


# ---- database, pool, worker ------------------------------------------------------------------


service_db, pool = service_database_fixtures("notify", MIGRATIONS, pool_max=8)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(generate_keyring_entry())


def a_clock() -> MovableClock:
    """The worker's idea of now, which tests move instead of sleeping: a little ahead of the
    database, so rows queued with now() are due at once."""
    return MovableClock(datetime.now(UTC) + timedelta(seconds=1))


WorkerFactory = Callable[..., DeliveryWorker]


@pytest.fixture
async def make_worker(service_db: str, pool: asyncpg.Pool, keyring: Keyring) -> AsyncIterator[WorkerFactory]:
    made: list[DeliveryWorker] = []

    def make(**overrides: Any) -> DeliveryWorker:
        options: dict[str, Any] = {
            "dsn": service_db,
            "pool": pool,
            "keyring": keyring,
            "public_base_url": "http://notify.test",
            "links": AckLinks(
                signing_key=LINK_KEY, referral_public_url=REFERRAL_URL, valid_after_deadline=timedelta(days=1)
            ),
            # Port 9 refuses at once; tests that send e-mail give their own SMTP server.
            "mailer": Mailer(SmtpServer(host="127.0.0.1", port=9, sender="Tsunagu <noreply@tsunagu.test>")),
            "policy": RetryPolicy(max_tries=8, base_s=1.0, max_s=300.0),
            "webhook_timeout_s": 5.0,
            "lease_s": 60.0,
            "rand": lambda: 1.0,
        }
        options.update(overrides)
        worker = DeliveryWorker(**options)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.aclose()


# ---- helpers ---------------------------------------------------------------------------------


def a_match(
    organisation_id: uuid.UUID,
    webhook_url: str | None,
    *,
    referral_id: uuid.UUID | None = None,
    channels: tuple[str, ...] = ("webhook",),
    email: str | None = None,
    attempt: int = 1,
) -> HandoffOffered:
    """The referral's offer of one attempt (notify alerts on offers, not on the directory's match)."""
    return handoff_offered(
        referral_id=referral_id or uuid.uuid4(),
        attempt=attempt,
        organisation=OfferedOrganisation(
            organisation_id=organisation_id,
            name="【サンプル】社会福祉協議会",
            webhook_url=webhook_url,
            email=email,
            channels=channels,
        ),
    )


async def handle(pool: asyncpg.Pool, event: Event) -> None:
    """Run the handler the way the consumer does: one transaction, inside the case's trace."""
    token = otel_context.attach(propagate.extract({"traceparent": TRACEPARENT}))
    try:
        await consume(pool, HANDLERS, event)
    finally:
        otel_context.detach(token)


def delivery_id_of(event: HandoffOffered, channel: str = "webhook") -> str:
    key = f"{event.referral_id}:{event.organisation.organisation_id}:{event.attempt}"
    return key if channel == "webhook" else f"{key}:{channel}"


async def a_partner_with_a_secret(pool: asyncpg.Pool, keyring: Keyring) -> uuid.UUID:
    """A partner organisation whose webhook signing secret has been issued, with no grace period."""
    organisation_id = uuid.uuid4()
    await service.issue_webhook_secret(pool, keyring, organisation_id=organisation_id, grace_s=0)
    return organisation_id


async def a_rotated_partner(
    pool: asyncpg.Pool, keyring: Keyring, *, grace_s: int
) -> tuple[uuid.UUID, IssuedSecret, IssuedSecret]:
    """A partner organisation, its first webhook secret and the one that replaced it, the first kept
    for `grace_s` seconds."""
    organisation_id = uuid.uuid4()
    old = await service.issue_webhook_secret(pool, keyring, organisation_id=organisation_id, grace_s=grace_s)
    new = await service.issue_webhook_secret(pool, keyring, organisation_id=organisation_id, grace_s=grace_s)
    return organisation_id, old, new


def signed_by(secret: str, request: Received) -> bool:
    """Whether `request` carries a valid signature by `secret`, checked as a partner checks it now."""
    headers = request.headers
    return verify_signature(
        secret,
        headers["tsunagu-timestamp"],
        request.body,
        headers["tsunagu-signature"],
        now=time.time(),
        tolerance=300,
    )


async def offered(
    pool: asyncpg.Pool, organisation_id: uuid.UUID, webhook_url: str | None, **options: Any
) -> HandoffOffered:
    """An offer to `organisation_id` (see `a_match`), handled the way the consumer does."""
    event = a_match(organisation_id, webhook_url, **options)
    await handle(pool, event)
    return event


async def offered_to_a_partner(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, **options: Any
) -> HandoffOffered:
    """An offer (see `offered`) to a partner whose secret is issued and whose webhook is `receiver`."""
    organisation_id = await a_partner_with_a_secret(pool, keyring)
    return await offered(pool, organisation_id, receiver.hook(organisation_id), **options)


async def offered_to_a_partner_and_a_worker(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory, **options: Any
) -> tuple[HandoffOffered, MovableClock, DeliveryWorker]:
    """An offer to a partner (see `offered_to_a_partner`), and a worker with `options` to deliver it
    on a clock the test moves, set once the offer is queued."""
    event = await offered_to_a_partner(pool, keyring, receiver)
    clock = a_clock()
    return event, clock, make_worker(clock=clock, **options)


async def delivery(pool: asyncpg.Pool, event: HandoffOffered, channel: str = "webhook") -> Delivery:
    async with pool.acquire() as conn:
        found = await repository.get_delivery(conn, delivery_id=delivery_id_of(event, channel))
    assert found is not None
    return found


# ---- the handler -----------------------------------------------------------------------------


async def test_an_offer_handled_twice_with_different_event_ids_queues_one_alert_and_one_delivery(
    pool: asyncpg.Pool, receiver: Receiver
) -> None:
    organisation_id = uuid.uuid4()
    event = a_match(organisation_id, receiver.hook(organisation_id))

    await handle(pool, event)
    await handle(pool, event)  # a replay: same offer, new envelope and event id

    rows = await pool.fetch("SELECT delivery_id, status, tries, attempt, trace_headers FROM deliveries")
    assert [(r["delivery_id"], r["status"], r["tries"], r["attempt"]) for r in rows] == [
        (delivery_id_of(event), "pending", 0, 1)
    ]
    assert rows[0]["trace_headers"]["traceparent"].split("-")[1] == TRACE_ID
    assert await outbox_rows(pool) == []  # nothing is announced before a try
    assert await pool.fetchval("SELECT count(*) FROM alerts") == 1


# ---- delivering ------------------------------------------------------------------------------


async def test_the_worker_posts_a_correctly_signed_webhook_and_stages_one_notified_event(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    organisation_id = uuid.uuid4()
    issued = await service.issue_webhook_secret(pool, keyring, organisation_id=organisation_id, grace_s=0)
    event = await offered(pool, organisation_id, receiver.hook(organisation_id))
    worker = make_worker(clock=a_clock())

    assert await worker.run_once() == 1

    [request] = receiver.received
    assert request.path == f"/hooks/{organisation_id}"
    assert signed_by(issued.secret, request)
    headers = request.headers
    assert headers["tsunagu-delivery-id"] == delivery_id_of(event)
    # The same delivery as Standard Webhooks has it, verified by its own library with the secret as
    # issued; the signed webhook-id is the delivery id.
    assert headers["webhook-id"] == delivery_id_of(event)
    standardwebhooks.Webhook(issued.secret).verify(request.body, dict(headers))
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "tsunagu-notify/1"
    # The partner's webhook is part of the case's trace.
    assert headers["traceparent"].split("-")[1] == TRACE_ID
    body = json.loads(request.body)
    assert body == {
        "type": "handoff.offered.v1",
        "delivery_id": delivery_id_of(event),
        "referral_id": str(event.referral_id),
        "case_id": str(event.case_id),
        "organisation_id": str(organisation_id),
        "attempt": 1,
        "topic": "LONELY",
        "municipality_code": "131041",
        "severity": "S3",
        "offered_at": event.offered_at.isoformat(),
        "deadline_at": event.deadline_at.isoformat(),
        # What the case needs arrives unchanged, with the area's name and the deadline in Japan time.
        "need_tags": ["DV", "HIK"],
        "age_band": "12-17",
        "language": "vi",
        "municipality_name": "東京都新宿区",
        "deadline_at_jst": event.deadline_at.astimezone(ZoneInfo("Asia/Tokyo")).isoformat(timespec="minutes"),
        "links": {
            "referral": f"http://notify.test/v1/deliveries/{delivery_id_of(event)}",
            "acknowledge": body["links"]["acknowledge"],
        },
    }
    # The link names this attempt, signed with notify's key; referral verifies it.
    link = body["links"]["acknowledge"]
    assert link.startswith(f"{REFERRAL_URL}/v1/acknowledgements/")
    claims = LinkVerifier(LINK_PUBLIC_KEY).verify(link.rsplit("/", 1)[1])
    assert (claims.referral_id, claims.organisation_id, claims.attempt) == (
        event.referral_id,
        organisation_id,
        1,
    )
    assert claims.expires_at > event.deadline_at

    done = await delivery(pool, event)
    assert (done.status, done.tries, done.last_error) == ("delivered", 1, None)
    assert done.delivered_at is not None
    async with pool.acquire() as conn:
        attempts = await repository.list_attempts(conn, delivery_uuid=done.id)
    assert [(a.try_no, a.http_status, a.error) for a in attempts] == [(1, 200, None)]
    [notified] = await outbox_rows(pool)
    assert notified["event_type"] == "handoff.notified.v1"
    assert notified["topic"] == "notify.deliveries.v1"
    assert notified["message_key"] == str(event.case_id)
    assert notified["payload"]["delivery_id"] == delivery_id_of(event)
    assert notified["payload"]["channel"] == "webhook"
    assert notified["payload"]["attempt"] == 1


async def test_a_partner_answering_503_is_retried_with_backoff_until_one_failure_is_announced(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    receiver.status = 503
    event, clock, worker = await offered_to_a_partner_and_a_worker(
        pool, keyring, receiver, make_worker, policy=RetryPolicy(max_tries=3, base_s=10.0, max_s=15.0)
    )

    assert await worker.run_once() == 1
    first = await delivery(pool, event)
    assert (first.status, first.tries, first.last_error) == ("pending", 1, "http_503")
    assert first.next_attempt_at == clock.now + timedelta(seconds=10)
    assert await worker.run_once() == 0  # not due yet

    clock.advance(seconds=10)
    assert await worker.run_once() == 1
    second = await delivery(pool, event)
    assert (second.status, second.tries) == ("pending", 2)
    assert second.next_attempt_at == clock.now + timedelta(seconds=15)  # 20 s, capped at 15

    clock.advance(seconds=15)
    assert await worker.run_once() == 1
    last = await delivery(pool, event)
    assert (last.status, last.tries, last.last_error) == ("failed", 3, "http_503")

    clock.advance(seconds=3600)
    assert await worker.run_once() == 0
    assert receiver.delivery_ids() == [delivery_id_of(event)] * 3
    async with pool.acquire() as conn:
        attempts = await repository.list_attempts(conn, delivery_uuid=last.id)
    assert [(a.try_no, a.http_status, a.error) for a in attempts] == [
        (1, 503, "http_503"),
        (2, 503, "http_503"),
        (3, 503, "http_503"),
    ]
    [failed] = await outbox_rows(pool)
    assert failed["event_type"] == "handoff.delivery_failed.v1"
    assert failed["payload"]["reason"] == "http_503"
    assert failed["payload"]["delivery_id"] == delivery_id_of(event)


async def test_a_partner_that_recovers_gets_the_delivery_on_a_later_try(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    receiver.statuses = [500, 502]
    event, clock, worker = await offered_to_a_partner_and_a_worker(pool, keyring, receiver, make_worker)

    for _ in range(3):
        assert await worker.run_once() == 1
        clock.advance(seconds=300)

    done = await delivery(pool, event)
    assert (done.status, done.tries) == ("delivered", 3)
    assert [row["event_type"] for row in await outbox_rows(pool)] == ["handoff.notified.v1"]


async def test_without_a_signing_secret_the_delivery_fails_with_no_signing_secret(
    pool: asyncpg.Pool, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    organisation_id = uuid.uuid4()
    event = await offered(pool, organisation_id, receiver.hook(organisation_id))
    clock = a_clock()
    worker = make_worker(clock=clock, policy=RetryPolicy(max_tries=2, base_s=1.0, max_s=1.0))

    assert await worker.run_once() == 1
    clock.advance(seconds=1)
    assert await worker.run_once() == 1

    failed = await delivery(pool, event)
    assert (failed.status, failed.last_error) == ("failed", "no_signing_secret")
    assert receiver.received == []  # an unsigned alert is never sent
    [announced] = await outbox_rows(pool)
    assert announced["event_type"] == "handoff.delivery_failed.v1"
    assert announced["payload"]["reason"] == "no_signing_secret"


async def test_an_offer_without_a_webhook_url_fails_at_once_with_no_webhook_url(
    pool: asyncpg.Pool, keyring: Keyring, make_worker: WorkerFactory
) -> None:
    organisation_id = await a_partner_with_a_secret(pool, keyring)
    event = await offered(pool, organisation_id, None)

    assert await make_worker(clock=a_clock()).run_once() == 1

    failed = await delivery(pool, event)
    assert (failed.status, failed.tries, failed.last_error) == ("failed", 1, "no_webhook_url")
    assert [row["payload"]["reason"] for row in await outbox_rows(pool)] == ["no_webhook_url"]


async def test_an_unreachable_partner_counts_as_a_connect_error(
    pool: asyncpg.Pool, keyring: Keyring, make_worker: WorkerFactory
) -> None:
    organisation_id = await a_partner_with_a_secret(pool, keyring)
    # Port 9 on loopback: nothing listens there, the connection is refused at once.
    event = await offered(pool, organisation_id, "http://127.0.0.1:9/hooks")

    assert await make_worker(clock=a_clock()).run_once() == 1

    pending = await delivery(pool, event)
    assert (pending.status, pending.last_error) == ("pending", "connect_error")


async def test_a_partner_slower_than_the_timeout_counts_as_a_timeout(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    receiver.delay_s = 1.0
    event = await offered_to_a_partner(pool, keyring, receiver)

    assert await make_worker(clock=a_clock(), webhook_timeout_s=0.2).run_once() == 1

    pending = await delivery(pool, event)
    assert (pending.status, pending.last_error) == ("pending", "timeout")


async def test_a_partner_that_answers_2xx_and_stalls_its_body_has_the_delivery(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    receiver.body_delay_s = 1.0
    event = await offered_to_a_partner(pool, keyring, receiver)

    assert await make_worker(clock=a_clock(), webhook_timeout_s=0.2).run_once() == 1

    delivered = await delivery(pool, event)
    assert (delivered.status, delivered.tries, delivered.last_error) == ("delivered", 1, None)


async def test_webhooks_one_after_another_share_one_connection_to_the_partner(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    # Its short answer is read, so the connection (over TLS: its session) serves the next one.
    worker = make_worker(clock=a_clock())
    first = await offered_to_a_partner(pool, keyring, receiver)
    assert await worker.run_once() == 1
    second = await offered_to_a_partner(pool, keyring, receiver)
    assert await worker.run_once() == 1

    assert [(await delivery(pool, event)).status for event in (first, second)] == ["delivered"] * 2
    assert len(receiver.received) == 2 and len(receiver.peers) == 1


async def test_a_delivered_delivery_is_never_sent_again(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    event, clock, worker = await offered_to_a_partner_and_a_worker(pool, keyring, receiver, make_worker)
    assert await worker.run_once() == 1

    await handle(pool, event)  # the offer again, after delivery
    clock.advance(seconds=86_400)  # long past any lease or backoff
    assert await worker.run_once() == 0
    assert await make_worker(clock=clock).run_once() == 0

    assert receiver.delivery_ids() == [delivery_id_of(event)]
    assert len(await outbox_rows(pool)) == 1


async def test_a_delivery_left_sending_by_a_crashed_sender_is_sent_again_after_its_lease(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    event = await offered_to_a_partner(pool, keyring, receiver)
    clock = a_clock()
    async with pool.acquire() as conn:  # a sender claims the row and dies before finishing
        [claimed] = await repository.claim_due(conn, limit=10, lease_s=60, now=clock.now)
    assert claimed.status == "sending"
    worker = make_worker(clock=clock)

    assert await worker.run_once() == 0  # the lease still holds
    clock.advance(seconds=61)
    assert await worker.run_once() == 1

    done = await delivery(pool, event)
    assert (done.status, done.tries) == ("delivered", 2)
    assert receiver.delivery_ids() == [delivery_id_of(event)]


async def test_after_a_rotation_both_secrets_sign_during_the_grace_period(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    organisation_id, old, new = await a_rotated_partner(pool, keyring, grace_s=3600)
    assert new.rotated and not old.rotated
    await offered(pool, organisation_id, receiver.hook(organisation_id))

    assert await make_worker().run_once() == 1

    [request] = receiver.received
    assert request.headers["tsunagu-signature"].count("v1=") == 2
    for secret in (old.secret, new.secret):
        assert signed_by(secret, request)


async def test_after_the_grace_period_only_the_new_secret_signs(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    organisation_id, old, new = await a_rotated_partner(pool, keyring, grace_s=0)
    await offered(pool, organisation_id, receiver.hook(organisation_id))

    assert await make_worker().run_once() == 1

    [request] = receiver.received
    assert signed_by(new.secret, request)
    assert not signed_by(old.secret, request)


# ---- concurrency and the running loop --------------------------------------------------------


async def test_two_workers_running_at_once_never_send_the_same_delivery_twice(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    organisation_id = await a_partner_with_a_secret(pool, keyring)
    events = [a_match(organisation_id, receiver.hook(organisation_id)) for _ in range(30)]
    for event in events:
        await handle(pool, event)
    # Slow enough that one worker cannot drain all 30 before the other's first claim, even
    # when the machine is busy.
    receiver.delay_s = 0.2
    clock = a_clock()
    workers = [make_worker(clock=clock, batch_size=4) for _ in range(2)]

    async def drain(worker: DeliveryWorker) -> int:
        total = 0
        while handled := await worker.run_once():
            total += handled
        return total

    handled = await asyncio.gather(*(drain(w) for w in workers))

    assert sum(handled) == 30
    assert all(count > 0 for count in handled)  # both took part
    sent = receiver.delivery_ids()
    assert sorted(sent) == sorted(delivery_id_of(e) for e in events)  # each exactly once
    statuses = await pool.fetch("SELECT status, count(*) FROM deliveries GROUP BY status")
    assert {(r["status"], r["count"]) for r in statuses} == {("delivered", 30)}
    assert len(await outbox_rows(pool)) == 30


async def test_a_running_worker_is_woken_by_a_new_delivery_and_stops_when_asked(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    organisation_id = await a_partner_with_a_secret(pool, keyring)
    # A poll interval this long means only the NOTIFY can bring the delivery out in time.
    worker = make_worker(poll_interval_s=60.0)
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.3)  # let it LISTEN
        event = a_match(organisation_id, receiver.hook(organisation_id))
        await handle(pool, event)
        for _ in range(200):
            if (await delivery(pool, event)).status == "delivered":
                break
            await asyncio.sleep(0.05)
    finally:
        worker.stop()
        await asyncio.wait_for(running, 5)
    assert (await delivery(pool, event)).status == "delivered"
    assert receiver.delivery_ids() == [delivery_id_of(event)]

    # The runtime restarts a crashed run(); the HTTP client closed on the way out comes back.
    second = a_match(organisation_id, receiver.hook(organisation_id))
    await handle(pool, second)
    assert await worker.run_once() == 1
    assert (await delivery(pool, second)).status == "delivered"


# ---- e-mail over real SMTP, several channels per attempt, the attempt's fate --------------------


def mail_worker(make_worker: WorkerFactory, smtp: MailSink, **overrides: Any) -> DeliveryWorker:
    return make_worker(clock=a_clock(), mailer=Mailer(smtp.server()), **overrides)


async def test_the_email_reaches_the_smtp_server_with_the_case_codes_deadline_and_link_only(
    pool: asyncpg.Pool, smtp: MailSink, make_worker: WorkerFactory
) -> None:
    organisation_id = uuid.uuid4()
    event = await offered(pool, organisation_id, None, channels=("email",), email="alerts@partner.example")

    assert await mail_worker(make_worker, smtp).run_once() == 1

    [message] = smtp.messages
    assert smtp.envelopes == [("noreply@tsunagu.test", ["alerts@partner.example"])]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "孤独・孤立に悩んでいる方 (LONELY)" in text
    assert "東京都新宿区 (131041)" in text and "S3 深刻" in text
    assert "DV・性暴力・虐待 (DV)、ひきこもり (HIK)" in text
    assert "12〜17歳 (12-17)" in text and "ベトナム語 (vi)" in text
    deadline = event.deadline_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
    assert f"{deadline} JST" in text
    assert "東京都新宿区 (131041)" in message["Subject"] and f"{deadline} JST" in message["Subject"]
    link = next(line for line in text.splitlines() if line.startswith(f"{REFERRAL_URL}/v1/acknowledgements/"))
    claims = LinkVerifier(LINK_PUBLIC_KEY).verify(link.rsplit("/", 1)[1])
    assert (claims.referral_id, claims.attempt) == (event.referral_id, 1)
    whole = message.as_string()
    # Nothing about the person, and not even the organisation's own name.
    for absent in ("【サンプル】社会福祉協議会", "summary", "contact", "phone"):
        assert absent not in whole
    assert message["Message-ID"] == f"<{delivery_id_of(event, 'email').replace(':', '.')}@tsunagu.invalid>"
    sent = await delivery(pool, event, "email")
    assert (sent.status, sent.channel) == ("delivered", "email")
    [notified] = await outbox_rows(pool)
    assert (notified["event_type"], notified["payload"]["channel"]) == ("handoff.notified.v1", "email")


async def test_webhook_and_email_of_one_attempt_carry_the_same_link_and_each_is_announced(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, smtp: MailSink, make_worker: WorkerFactory
) -> None:
    await offered_to_a_partner(
        pool, keyring, receiver, channels=("webhook", "email", "portal"), email="alerts@partner.example"
    )

    assert await mail_worker(make_worker, smtp).run_once() == 2

    [request] = receiver.received
    [message] = smtp.messages
    webhook_link = json.loads(request.body)["links"]["acknowledge"]
    assert webhook_link in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    channels = sorted(row["payload"]["channel"] for row in await outbox_rows(pool))
    assert channels == ["email", "webhook"]


async def test_when_every_channel_failed_one_delivery_failure_names_each_reason(
    pool: asyncpg.Pool, smtp: MailSink, make_worker: WorkerFactory
) -> None:
    organisation_id = uuid.uuid4()
    smtp.refuse.add("gone@partner.example")
    await offered(pool, organisation_id, None, channels=("webhook", "email"), email="gone@partner.example")

    assert await mail_worker(make_worker, smtp).run_once() == 2  # both fail for good at once

    [failed] = await outbox_rows(pool)
    assert failed["event_type"] == "handoff.delivery_failed.v1"
    assert failed["payload"]["reason"] == "email:smtp_550,webhook:no_webhook_url"
    assert smtp.messages == []


async def test_one_channel_failing_while_another_reached_the_partner_is_no_delivery_failure(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, smtp: MailSink, make_worker: WorkerFactory
) -> None:
    smtp.refuse.add("gone@partner.example")
    event = await offered_to_a_partner(
        pool, keyring, receiver, channels=("webhook", "email"), email="gone@partner.example"
    )

    assert await mail_worker(make_worker, smtp).run_once() == 2

    assert [row["event_type"] for row in await outbox_rows(pool)] == ["handoff.notified.v1"]
    assert (await delivery(pool, event, "email")).status == "failed"


async def test_a_retry_pending_when_the_attempt_is_acknowledged_is_cancelled_and_never_sent(
    pool: asyncpg.Pool, keyring: Keyring, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    receiver.status = 503
    event, clock, worker = await offered_to_a_partner_and_a_worker(pool, keyring, receiver, make_worker)
    assert await worker.run_once() == 1  # 503: a retry is scheduled

    await handle(
        pool,
        HandoffAcknowledged(
            case_id=event.case_id,
            referral_id=event.referral_id,
            attempt=1,
            organisation_id=event.organisation.organisation_id,
            via="api",
            acknowledged_at=datetime.now(UTC),
        ),
    )
    clock.advance(seconds=3600)

    assert await worker.run_once() == 0
    assert len(receiver.received) == 1
    assert (await delivery(pool, event)).status == "cancelled"


async def test_the_inbox_follows_the_attempt_to_expired_and_reassigned(
    pool: asyncpg.Pool, receiver: Receiver
) -> None:
    organisation_id = uuid.uuid4()
    event = await offered(pool, organisation_id, receiver.hook(organisation_id), channels=("portal",))
    at = datetime.now(UTC)
    await handle(
        pool,
        HandoffExpired(
            case_id=event.case_id,
            referral_id=event.referral_id,
            attempt=1,
            organisation_id=organisation_id,
            deadline_at=event.deadline_at,
            expired_at=at,
        ),
    )
    state = await pool.fetchval("SELECT state FROM alerts")
    assert state == "expired"
    escalated = ReferralEscalated(
        case_id=event.case_id,
        referral_id=event.referral_id,
        from_attempt=1,
        to_attempt=2,
        from_organisation_id=organisation_id,
        to_organisation_id=uuid.uuid4(),
        cause="expired",
        escalated_at=at,
    )
    await handle(pool, escalated)
    await handle(pool, escalated)  # a replay moves nothing
    assert await pool.fetchval("SELECT state FROM alerts") == "reassigned"
    assert await pool.fetchval("SELECT count(*) FROM deliveries") == 0  # portal only: nothing sent


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/hooks", "http://[::1/hooks"])
async def test_a_webhook_url_that_cannot_be_posted_to_counts_as_an_invalid_webhook_url(
    pool: asyncpg.Pool, keyring: Keyring, make_worker: WorkerFactory, url: str
) -> None:
    organisation_id = await a_partner_with_a_secret(pool, keyring)
    event = await offered(pool, organisation_id, url)

    assert await make_worker(clock=a_clock()).run_once() == 1

    assert (await delivery(pool, event)).last_error == "invalid_webhook_url"


async def test_a_partner_that_hangs_up_without_answering_counts_as_a_transport_error(
    pool: asyncpg.Pool, keyring: Keyring, make_worker: WorkerFactory
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    organisation_id = await a_partner_with_a_secret(pool, keyring)
    event = await offered(pool, organisation_id, f"http://127.0.0.1:{port}/hooks")
    try:
        assert await make_worker(clock=a_clock()).run_once() == 1
    finally:
        server.close()
        await server.wait_closed()

    pending = await delivery(pool, event)
    assert (pending.status, pending.last_error) == ("pending", "transport_error")
