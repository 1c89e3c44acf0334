"""Alerts: one per offered attempt, its fate, and the partner portal's inbox."""
