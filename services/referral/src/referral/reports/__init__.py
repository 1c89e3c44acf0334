"""Reports for operators: a period's handoffs (time to acceptance, organisations needed,
exhaustion, outcomes) and the dashboard's counts, all aggregated by the database."""
