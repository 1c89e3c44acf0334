"""Fixtures of referral's integration tests: a freshly migrated database of its own per test, a
clock the tests move, a way to seed referrals, and the real app on them."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from contracts.events import Candidate
from contracts.vocabulary import Severity, Topic
from eventkit import outbox
from eventkit.auth import generate_signing_keypair
from eventkit.clock import MovableClock
from eventkit.crypto import Keyring, generate_keyring_entry
from eventkit.runtime import NO_LOOPS
from eventkit.testing import Infra, app_client, outbox_rows, service_database_fixtures, service_settings
from referral.config import Settings
from referral.lifecycle import repository, service
from referral.lifecycle.domain import Entry, HandoffPolicy, Referral
from referral.lifecycle.facts import Matched, open_referral
from referral.lifecycle.handlers import case_recorded
from referral.lifecycle.service import Lifecycle
from referral.lifecycle.states import Milestone
from referral.main import MIGRATIONS, create_app

from ..builders import consultation_recorded

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACE_HEADERS = {"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"}


service_db, pool = service_database_fixtures("referral", MIGRATIONS, pool_max=8)
# The keyring that seals the notes partners and operators write (tests open them with it).
NOTES_KEYS = generate_keyring_entry()
NOTES = Keyring(NOTES_KEYS)


@pytest.fixture
def clock() -> MovableClock:
    """The service's idea of now; tests move it instead of sleeping."""
    return MovableClock()


@pytest.fixture
def lifecycle(clock: MovableClock) -> Lifecycle:
    """The app's lifecycle as `client` builds it (default policy, the test's clock, NOTES)."""
    return Lifecycle(HandoffPolicy(), clock, notes=NOTES)


@pytest.fixture
def link_verify_key() -> str:
    """The key of notify's acknowledgement links; a module that mints links names its own."""
    return generate_signing_keypair()[1]


@pytest.fixture
async def client(
    infra: Infra, service_db: str, clock: MovableClock, auth_public_key: str, link_verify_key: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan on the test's database and clock, for a module that names the
    key of its tokens in an `auth_public_key` fixture. None of its loops: no consumer on the shared
    broker, no relay (the outbox rows stay in the test's database for the test to read), and no
    scheduler or note sealer (the tests drive them)."""
    settings = Settings(
        **service_settings(
            infra,
            service_db,
            auth_public_key=auth_public_key,
            link_verify_key=link_verify_key,
            encryption_keys=NOTES_KEYS,
        )
    )
    async with app_client(create_app(settings, clock=clock, loops=NO_LOOPS), "http://referral") as c:
        yield c


def candidate(org: uuid.UUID, rank: int, channels: tuple[str, ...] = ("portal",)) -> Candidate:
    # Portal-only by default: tests that publish to the shared broker must not make a running
    # notify send anything anywhere.
    return Candidate(organisation_id=org, rank=rank, tier="municipality", reasons=(), channels=channels)


async def _seed(
    pool: asyncpg.Pool,
    *,
    offered_to: tuple[uuid.UUID, ...] = (),
    lifecycle: Lifecycle | None = None,
    severity: Severity = Severity.S3,
    age_s: int = 0,
) -> Referral:
    """A referral written through the repository and service: opened (no outbox row) and, with
    `offered_to`, matched to those ranked organisations (attempt 1 to the first)."""
    now = (lifecycle.clock() if lifecycle else datetime.now(UTC)) - timedelta(seconds=age_s)
    event = consultation_recorded(recorded_at=now, severity=severity, topic=Topic.WOMEN)
    referral = open_referral(case_recorded(event), referral_id=uuid.uuid4(), now=now)
    async with pool.acquire() as conn, conn.transaction():
        await repository.insert_referral(
            conn,
            referral=referral,
            entries=[Entry(Milestone.REQUESTED, now, "referral")],
            events=outbox.rows_of(conn, []),
            trace_id=TRACE_ID,
            trace_headers=TRACE_HEADERS,
        )
        if offered_to:
            referral = await service.record_fact(
                conn,
                referral_id=referral.id,
                case_id=referral.case_id,
                fact=Matched(
                    organisation_id=offered_to[0],
                    reasons=("municipality_match",),
                    candidates=tuple(candidate(org, rank) for rank, org in enumerate(offered_to, start=1)),
                    at=now,
                ),
                actor="directory",
                event_id=uuid.uuid4(),
                lifecycle=lifecycle or Lifecycle(HandoffPolicy()),
            )
        # The state's clock: work lists order by how long a referral has waited in its state.
        await conn.execute("UPDATE referrals SET updated_at = $2 WHERE id = $1", referral.id, now)
    return referral


async def _outbox_types(pool: asyncpg.Pool, case_id: uuid.UUID | None = None) -> list[str]:
    rows = await outbox_rows(pool)
    return [row["event_type"] for row in rows if case_id is None or row["message_key"] == str(case_id)]


Seed = Callable[..., Awaitable[Referral]]
OutboxTypes = Callable[..., Awaitable[list[str]]]


@pytest.fixture
def seed() -> Seed:
    return _seed


@pytest.fixture
def outbox_types() -> OutboxTypes:
    return _outbox_types
