import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from eventkit.db import MigrationSource, migrate, service_migrations

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def test_a_fresh_database_migrates_cleanly_and_a_second_run_applies_nothing(
    fresh_database: str,
) -> None:
    sources = service_migrations("notify", MIGRATIONS)

    first = await migrate(fresh_database, sources)
    again = await migrate(fresh_database, sources)

    assert "notify/0001_create_deliveries.sql" in first
    assert again == []


async def test_alerts_stored_before_the_needs_travelled_keep_what_a_v1_offer_meant(
    fresh_database: str, tmp_path: Path
) -> None:
    for path in sorted(MIGRATIONS.glob("000[12]_*.sql")):
        shutil.copy(path, tmp_path / path.name)
    await migrate(fresh_database, service_migrations("notify", tmp_path))
    conn = await asyncpg.connect(fresh_database)
    try:
        now = datetime.now(UTC)
        referral_id, organisation_id = uuid.uuid4(), uuid.uuid4()
        await conn.execute(
            """INSERT INTO alerts (id, alert_key, referral_id, case_id, organisation_id, attempt, topic,
                                   municipality_code, severity, channels, offered_at, deadline_at, state_at)
               VALUES ($1, $2, $3, $4, $5, 1, 'LONELY', '131041', 'S3', '{webhook}', $6, $7, $6)""",
            uuid.uuid4(),
            f"{referral_id}:{organisation_id}:1",
            referral_id,
            uuid.uuid4(),
            organisation_id,
            now,
            now + timedelta(minutes=30),
        )

        applied = await migrate(fresh_database, [MigrationSource("notify", MIGRATIONS)])

        assert applied[0] == "notify/0003_alert_needs.sql"  # later migrations follow it
        row = await conn.fetchrow("SELECT need_tags, age_band, language FROM alerts")
        assert row is not None
        assert (row["need_tags"], row["age_band"], row["language"]) == ([], "unknown", "ja")
        # The defaults were for those rows only: a new alert that leaves the needs out is refused.
        with pytest.raises(asyncpg.NotNullViolationError):
            await conn.execute(
                """INSERT INTO alerts (id, alert_key, referral_id, case_id, organisation_id, attempt,
                                       topic, municipality_code, severity, channels, offered_at,
                                       deadline_at, state_at)
                   VALUES ($1, 'k', $1, $1, $1, 1, 'LONELY', '131041', 'S3', '{}', $2, $2, $2)""",
                uuid.uuid4(),
                now,
            )
    finally:
        await conn.close()
