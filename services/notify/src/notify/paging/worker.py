"""The paging worker: raises the S4-unacknowledged alerts, pages the due pages again, and sends
each page's messages — e-mail over SMTP to the people on call, PagerDuty Events API v2 events to
the pager — retrying a failed one with back-off and never storing a response body.

At least once: a sender that crashes after the send and before its commit sends the message again
after its lease; the pager folds repeats by `dedup_key`, and one more e-mail is a small price for a
page that must not be lost. Any number of workers may run (SKIP LOCKED, leases)."""

import logging
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import httpx

from eventkit.clock import Clock, system_clock
from eventkit.worker import PollingWorker
from notify.deliveries.domain import Reason, http_reason
from notify.paging import messages, repository, service
from notify.paging.domain import Message, MessageStatus, PagingPolicy, gives_up, retry_after
from notify.sender.mail import Mailer, MailRejected

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PagerWebhook:
    """A PagerDuty Events API v2 endpoint (https://events.pagerduty.com/v2/enqueue) or anything
    that speaks it; the routing key is the pager service's integration key."""

    url: str
    routing_key: str
    timeout_s: float = 10.0


class PagingWorker(PollingWorker):
    name = "paging worker"

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        policy: PagingPolicy,
        s4_ack_limit: timedelta,
        mailer: Mailer,
        webhook: PagerWebhook | None,
        dashboard_url: str,
        interval_s: float = 2.0,
        lease_s: float = 60.0,
        max_tries: int = 10,
        clock: Clock = system_clock,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(interval_s=interval_s)
        self._pool = pool
        self._policy = policy
        self._s4_ack_limit = s4_ack_limit
        self._mailer = mailer
        self._webhook = webhook
        self._pager = service.Pager(webhook=webhook is not None, dashboard_url=dashboard_url)
        self._lease = timedelta(seconds=lease_s)
        self._max_tries = max_tries
        self._clock = clock
        self._http = http or httpx.AsyncClient(timeout=webhook.timeout_s if webhook else 10.0)

    async def poll_once(self) -> bool:
        now = self._clock()
        await service.raise_s4_unacknowledged(
            self._pool, now=now, limit=self._s4_ack_limit, policy=self._policy
        )
        await service.page_due(self._pool, now=now, policy=self._policy, pager=self._pager)
        return await self.send_due() >= 20

    async def send_due(self, limit: int = 20) -> int:
        """Send the messages due now; how many were claimed."""
        async with self._pool.acquire() as conn:
            claimed = await repository.claim_messages(conn, now=self._clock(), lease=self._lease, limit=limit)
        for message in claimed:
            await self._send(message)
        return len(claimed)

    async def _send(self, message: Message) -> None:
        page = None
        http_status: int | None = None
        try:
            if message.channel == "email":
                async with self._pool.acquire() as conn:
                    page = await repository.get_page(conn, page_id=message.page_id)
                if page is None or not message.recipient:
                    raise MailRejected(Reason.NO_EMAIL_ADDRESS)
                await self._mailer.send(
                    messages.page_email(
                        page,
                        sender=self._mailer.server.sender,
                        recipient=message.recipient,
                        round_no=message.round,
                        dashboard_url=self._pager.dashboard_url,
                        now=self._clock(),
                    )
                )
            else:
                http_status = await self._post(message)
            error = None
        except MailRejected as rejected:
            error = rejected.reason
        except _PagerRefused as refused:
            error, http_status = refused.reason, refused.status
        await self._finish(message, error=error, http_status=http_status)

    async def _post(self, message: Message) -> int:
        if self._webhook is None:
            raise _PagerRefused("no_pager", None)
        body = {"routing_key": self._webhook.routing_key, **message.payload}
        try:
            response = await self._http.post(self._webhook.url, json=body)
        except httpx.TimeoutException:
            raise _PagerRefused(Reason.TIMEOUT, None) from None
        except httpx.ConnectError:
            raise _PagerRefused(Reason.CONNECT_ERROR, None) from None
        except httpx.HTTPError:
            raise _PagerRefused(Reason.TRANSPORT_ERROR, None) from None
        if not response.is_success:
            raise _PagerRefused(http_reason(response.status_code), response.status_code)
        return response.status_code

    async def _finish(self, message: Message, *, error: str | None, http_status: int | None) -> None:
        now = self._clock()
        tries = message.tries + 1
        if error is None:
            status, next_try = MessageStatus.SENT, now
        elif gives_up(error, tries=tries, max_tries=self._max_tries):
            status, next_try = MessageStatus.FAILED, now
            log.error("page message %s (%s) failed for good: %s", message.id, message.channel, error)
        else:
            status, next_try = MessageStatus.PENDING, now + retry_after(tries)
            log.warning("page message %s (%s) failed: %s; retrying", message.id, message.channel, error)
        async with self._pool.acquire() as conn:
            await repository.finish_message(
                conn,
                message_id=message.id,
                status=status.value,
                tries=tries,
                next_try_at=next_try,
                last_error=error,
                http_status=http_status,
                sent_at=now if error is None else None,
            )

    async def closed(self) -> None:
        await self._http.aclose()


class _PagerRefused(Exception):
    def __init__(self, reason: str, status: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
