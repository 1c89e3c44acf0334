"""The retention purge inside the service: once every `interval_s`, with eventkit's worker loop
(graceful stop, back-off while the database is away)."""

import logging

import asyncpg

from eventkit import telemetry
from eventkit.clock import Clock
from eventkit.crypto import Keyring
from eventkit.worker import PollingWorker
from intake.retention.service import PurgeReport, purge, seal_plain_risk

log = logging.getLogger(__name__)


class RetentionWorker(PollingWorker):
    name = "retention purge"

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        retention_days: int,
        interval_s: float,
        clock: Clock,
        keyring: Keyring | None = None,
    ) -> None:
        """With `keyring`, each round first seals risk assessments left in plain text by older
        versions (migration 0005): the first round after an upgrade does them all."""
        super().__init__(interval_s=interval_s)
        self._pool = pool
        self._keyring = keyring
        self._retention_days = retention_days
        self._clock = clock

    async def run_once(self) -> PurgeReport:
        with telemetry.quiet():
            if self._keyring is not None and (sealed := await seal_plain_risk(self._pool, self._keyring)):
                log.info("sealed %d risk assessments written in plain text", sealed)
            return await purge(self._pool, now=self._clock(), retention_days=self._retention_days)

    async def poll_once(self) -> bool:
        report = await self.run_once()
        if report.anything:
            log.info(
                "retention purge: %d consultations, %d call legs, %d chats",
                report.consultations,
                report.call_legs,
                report.chats,
            )
        return False  # one purge takes everything due: wait for the next interval
