"""The delivery worker: claims due deliveries, POSTs signed webhooks or sends e-mails, records each
outcome.

At least once: a sender that crashes between the partner's 2xx and its own commit leaves the row
in 'sending'; after the lease another sender POSTs it again with the same Tsunagu-Delivery-Id,
which partners deduplicate on. A delivered row is never claimed again.

Each try runs in a `deliver webhook` (or `deliver email`) span whose parent is the trace context
stored with the delivery, so the partner's webhook (and the handoff.notified event) joins the
case's trace. Both carry the attempt's acknowledgement link (`notify.links`). eventkit.worker gives
the loop its graceful stop, its wake-up and its back-off while the database is away.
"""

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
import asyncpg
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from eventkit import telemetry
from eventkit.clock import Clock, system_clock
from eventkit.crypto import Keyring
from eventkit.worker import Worker
from notify.deliveries import repository
from notify.deliveries.domain import Channel, Delivery, Reason, RetryPolicy, http_reason
from notify.links import AckLinks
from notify.partners.service import SigningUnavailable, signing_secrets
from notify.sender import service
from notify.sender.alert_text import email_message
from notify.sender.mail import Mailer, MailRejected
from notify.webhook import encode_body, webhook_body, webhook_headers

log = logging.getLogger(__name__)

DELIVERY_TRY = "delivery.try"


class _SecretsOfRound:
    """Each partner's signing secrets, read and decrypted once for a claimed batch, whose
    deliveries go out together; a read a delivery had cost a database round trip each."""

    def __init__(self, read: Callable[[uuid.UUID], Awaitable[list[str]]]) -> None:
        self._read = read
        self._held: dict[uuid.UUID, asyncio.Future[list[str]]] = {}

    async def of(self, organisation_id: uuid.UUID) -> list[str]:
        held = self._held.get(organisation_id)
        if held is None:
            held = self._held[organisation_id] = asyncio.ensure_future(self._read(organisation_id))
        # Shielded: one delivery cancelled does not cancel the read its neighbours wait for.
        return await asyncio.shield(held)


class DeliveryWorker(Worker):
    """LISTENs on 'deliveries' for new rows and polls as a safety net; any number may run."""

    name = "delivery worker"

    def __init__(
        self,
        *,
        dsn: str,
        pool: asyncpg.Pool,
        keyring: Keyring,
        public_base_url: str,
        links: AckLinks,
        mailer: Mailer,
        policy: RetryPolicy,
        webhook_timeout_s: float,
        lease_s: float,
        poll_interval_s: float = 0.5,
        batch_size: int = 20,
        clock: Clock | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        super().__init__()
        self._dsn = dsn
        self._pool = pool
        self._keyring = keyring
        self._public_base_url = public_base_url
        self._links = links
        self._mailer = mailer
        self._policy = policy
        self._timeout_s = webhook_timeout_s
        self._lease_s = lease_s
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        # None: the database's clock decides what is due, so every sender agrees on it.
        self._clock = clock
        self._rand = rand
        self._http: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use (and again after aclose), so a restarted run() has a live client. The
        # try's own timeout bounds each POST. Partners are reached directly: with trust_env aiohttp
        # reads the proxy variables and ~/.netrc on a thread for every POST (5% of notify's CPU
        # in the profile at 50 cases/s).
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.close()

    async def closed(self) -> None:
        await self.aclose()

    async def work(self) -> None:
        listener = await asyncpg.connect(self._dsn)
        # Up to batch_size deliveries are in flight; a slow partner holds one slot, not the rest.
        in_flight: set[asyncio.Task[None]] = set()
        try:
            await listener.add_listener(repository.NOTIFY_CHANNEL, self._on_notify)
            log.info("delivery worker is listening")
            while not self.stopping:
                if listener.is_closed():
                    # Polling alone would still deliver, but only at the poll interval.
                    raise ConnectionResetError("the LISTEN connection closed")
                free = self._batch_size - len(in_flight)
                claimed = await self._claim(free) if free > 0 else []
                secrets = self._secrets_of_round()
                for delivery in claimed:
                    task = asyncio.create_task(self._deliver_logged(delivery, secrets))
                    in_flight.add(task)
                    task.add_done_callback(self._finished(in_flight))
                if len(claimed) < free or free == 0:
                    # The timer catches retries coming due and NOTIFYs lost while reconnecting;
                    # when every slot was taken, a finished delivery wakes the loop to fill one.
                    await self.sleep(self._poll_interval_s)
        finally:
            if in_flight:
                # Graceful stop: sends under way finish and record their outcome.
                await asyncio.wait(in_flight, timeout=self._timeout_s + 5)
            with contextlib.suppress(Exception):
                await listener.close()

    def _finished(self, in_flight: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            was_full = len(in_flight) >= self._batch_size
            in_flight.discard(task)
            if was_full:
                # Only a full loop waits for a slot; waking it otherwise cost a claim that finds
                # nothing (a transaction per delivery): retries come due at the next poll.
                self.wake()

        return done

    async def _deliver_logged(self, delivery: Delivery, secrets: _SecretsOfRound) -> None:
        try:
            await self._deliver(delivery, secrets)
        except Exception as error:
            # The row stays leased and is tried again once the lease runs out.
            log.warning("delivery worker could not record a try (%s)", type(error).__name__)

    async def _claim(self, limit: int) -> list[Delivery]:
        with telemetry.quiet():
            async with self._pool.acquire() as conn:
                claimed: list[Delivery] = await repository.claim_due(
                    conn, limit=limit, lease_s=self._lease_s, now=self._db_now()
                )
        return claimed

    def _on_notify(self, *_: Any) -> None:
        self.wake()

    def _now(self) -> datetime:
        return self._clock() if self._clock is not None else system_clock()

    def _db_now(self) -> datetime | None:
        return self._clock() if self._clock is not None else None

    async def run_once(self) -> int:
        """Claim one batch of due deliveries and try each once; returns how many were tried."""
        claimed = await self._claim(self._batch_size)
        if not claimed:
            return 0
        secrets = self._secrets_of_round()
        outcomes = await asyncio.gather(*(self._deliver(d, secrets) for d in claimed), return_exceptions=True)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        for error in errors:
            # The row stays leased and is tried again once the lease runs out.
            log.warning("delivery worker could not record a try (%s)", type(error).__name__)
        if errors:
            raise errors[0]
        return len(claimed)

    def _secrets_of_round(self) -> _SecretsOfRound:
        return _SecretsOfRound(
            lambda organisation_id: signing_secrets(
                self._pool, self._keyring, organisation_id=organisation_id, now=self._db_now()
            )
        )

    async def _deliver(self, delivery: Delivery, secrets: _SecretsOfRound) -> None:
        parent = propagate.extract(delivery.trace_headers)
        with telemetry.tracer().start_as_current_span(
            f"deliver {delivery.channel}",
            context=parent,
            kind=SpanKind.INTERNAL,
            record_exception=False,
            attributes={
                telemetry.CASE_ID: str(delivery.case_id),
                telemetry.REFERRAL_ID: str(delivery.referral_id),
                telemetry.ORGANISATION_ID: str(delivery.organisation_id),
                telemetry.DELIVERY_ATTEMPT: delivery.attempt,
                DELIVERY_TRY: delivery.tries,
            },
        ) as span:
            result = await self._try(delivery, secrets)
            if result.http_status is not None:
                span.set_attribute("http.response.status_code", result.http_status)
            if result.reason is not None:
                span.set_attribute("error.type", result.reason)
                span.set_status(Status(StatusCode.ERROR, result.reason))
            # Inside the span: the outbox row carries this trace on to the referral service.
            await service.finish_try(
                self._pool,
                delivery,
                result,
                policy=self._policy,
                rand=self._rand,
                now=self._db_now(),
            )

    async def _try(self, delivery: Delivery, secrets_of_round: _SecretsOfRound) -> service.TryResult:
        at = self._now()
        started = time.monotonic()

        def outcome(*, http_status: int | None = None, reason: str | None = None) -> service.TryResult:
            elapsed_ms = int((time.monotonic() - started) * 1000)
            return service.TryResult(
                at=at,
                duration_ms=elapsed_ms,
                http_status=http_status,
                reason=None if reason is None else str(reason),
            )

        if delivery.channel == Channel.EMAIL:
            if not delivery.email_to:
                return outcome(reason=Reason.NO_EMAIL_ADDRESS)
            message = email_message(
                delivery.payload,
                to=delivery.email_to,
                sender=self._mailer.server.sender,
                acknowledge_url=self._links.url_for(delivery.payload),
                # The same id on every retry, so a mail client shows a resent alert once.
                message_id=f"<{delivery.delivery_id.replace(':', '.')}@tsunagu.invalid>",
            )
            try:
                async with asyncio.timeout(self._mailer.server.timeout_s + 5):
                    await self._mailer.send(message)
            except MailRejected as rejected:
                return outcome(reason=rejected.reason)
            except TimeoutError:
                return outcome(reason=Reason.TIMEOUT)
            return outcome()
        if not delivery.webhook_url:
            return outcome(reason=Reason.NO_WEBHOOK_URL)
        try:
            secrets = await secrets_of_round.of(delivery.organisation_id)
        except SigningUnavailable as unavailable:
            return outcome(reason=unavailable.reason)
        # The link is minted from the stored payload at send time (the same token every try); a
        # delivery the backbone queued has no deadline, hence no attempt to acknowledge by link.
        acknowledge_url = self._links.url_for(delivery.payload) if "deadline_at" in delivery.payload else None
        body = encode_body(
            webhook_body(
                delivery.payload, public_base_url=self._public_base_url, acknowledge_url=acknowledge_url
            )
        )
        headers = webhook_headers(
            delivery_id=delivery.delivery_id,
            secrets=secrets,
            timestamp=int(at.timestamp()),
            body=body,
        )
        # The partner's webhook joins the case's trace as a child of this try's span.
        propagate.inject(headers)
        status: int | None = None
        failure: Reason  # set by the handler of whatever stopped the POST before an answer
        try:
            async with (
                asyncio.timeout(self._timeout_s),
                # A partner's answer body is neither needed nor stored. A short one is drained so
                # that the connection (and its TLS session) serves the next delivery; one left
                # unread would close it, a new handshake for every webhook.
                self._client().post(
                    delivery.webhook_url, data=body, headers=headers, allow_redirects=False
                ) as response,
            ):
                status = response.status
                await _drain(response)
        except TimeoutError:
            failure = Reason.TIMEOUT
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError):
            failure = Reason.INVALID_WEBHOOK_URL
        except aiohttp.ClientConnectorError:
            failure = Reason.CONNECT_ERROR
        except aiohttp.ClientError:
            failure = Reason.TRANSPORT_ERROR
        # Once the partner answered, its status is the outcome, whatever befell the body after it.
        if status is None:
            return outcome(reason=failure)
        if 200 <= status < 300:
            return outcome(http_status=status)
        return outcome(http_status=status, reason=http_reason(status))


_DRAIN_LIMIT = 64 * 1024


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read and drop an answer body of up to `_DRAIN_LIMIT` bytes; a longer one is cut off (its
    connection is closed rather than reused)."""
    read = 0
    async for chunk in response.content.iter_any():
        read += len(chunk)
        if read > _DRAIN_LIMIT:
            return
