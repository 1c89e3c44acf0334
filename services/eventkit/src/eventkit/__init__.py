"""Shared plumbing of Tsunagu's services: outbox, idempotent consumer, dead letters, telemetry, db."""
